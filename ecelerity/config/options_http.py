"""Option table: the HTTP side (HTTP_Listener limits and REST injection keys).

Options Momentum's reference does not have but our HTTP_Listener needs: the API keys
REST injection accepts (Momentum 4 keeps them in its database; we keep them in the
configuration) and a bound on concurrent HTTP connections. Options Momentum does
document for HTTP_Listener (idle_time, max_request_size, log_requests_to_paniclog,
use_ssl...) live in options_inbound.py. Read by registry.py only.
"""
from __future__ import annotations

from .options_common import opt
from .types import COUNT, STRING_LIST

_HTTP = frozenset({"http_listener", "listen", "peer"})

OPTIONS = [
    opt("rest_api_keys", STRING_LIST, None, _HTTP,  # ours: Momentum 4 stores keys in its DB
        'API keys accepted in the Authorization header of REST injection, ( "key1" "key2" ); '
        "unset: every injection is refused with 401", implemented=True),
    opt("http_max_connections", COUNT, 100, {"http_listener", "listen"},  # ours
        "concurrent connections one HTTP Listen serves; more wait in the listen backlog", implemented=True),
]
