"""msys.httpsrv.register and the ``session`` object Lua HTTP endpoints receive.

Installed by libraries.py. As documented for Momentum 4:
  msys.httpsrv.register(method, endpoint, function(session) ... end) -- ``method`` nil
      serves every method; ``endpoint`` is a base URI path, trailing slash optional,
      that also serves the paths below it. register(endpoint, function) is the same
      with method nil. Call it when the script loads (top level or ``init``).
  session:request_url_get() -> { url = "/path?query", path = "/path", query = "q" }
  session:response_status_set_std(code, message [, mimetype]) -> the response status,
      its body (``message``) and Content-Type (default text/plain).
Ours, for endpoints that need more than Momentum's two documented methods:
  session:request_method_get() -> "GET" ...; session:request_header_get(name) -> value
  or nil; session:request_body_get() -> the body; session:request_remote_addr_get() ->
  client IP; session:response_header_set(name, value).
Endpoints go to the daemon's table (ecelerity/http/endpoints.py, ``runtime.app``) or,
offline, to ``runtime.http_endpoints``. ``serve`` runs one request: the function runs
in the request's greenlet under the runtime's call budget; a Lua error gives a 500
and its traceback in the paniclog (runtime.call writes it), never a crash. A handler
that sets no status answers 200 with an empty body.
"""
from __future__ import annotations

import weakref
from typing import Any

from ...http.endpoints import LuaEndpoints, endpoints_of
from ...http.responses import Response, rest_error


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_function(runtime: Any, value: Any) -> bool:
    return runtime.sandbox.lua_type(value) == "function"


def register(runtime: Any, method: Any, endpoint: Any = None, function: Any = None) -> bool:
    if function is None and _is_function(runtime, endpoint):
        method, endpoint, function = None, method, endpoint  # register(endpoint, function)
    if endpoint is None or not _text(endpoint).strip():
        raise ValueError("an endpoint path is required")
    if function is None or not _is_function(runtime, function):
        raise ValueError("the handler must be a function(session)")
    method_text = _text(method).strip().upper() if method is not None else None
    if method_text is not None and not method_text.isalpha():
        raise ValueError(f"bad HTTP method {method_text!r}")
    anchored = runtime.sandbox.anchor(function)  # kept past this call
    app = getattr(runtime, "app", None)
    if app is not None:
        table = endpoints_of(app)
    else:
        table = runtime.__dict__.setdefault("http_endpoints", LuaEndpoints())
    owner = runtime if isinstance(runtime, weakref.ProxyTypes) else weakref.proxy(runtime)
    added = table.add(method_text, _text(endpoint), owner, anchored)
    runtime.log(f"httpsrv: {added.method} {added.path} registered")
    return True


class HttpSession:
    """The Python side of one request's ``session`` object."""

    def __init__(self, runtime: Any, request: Any) -> None:
        self.runtime = runtime
        self.request = request
        self.response = Response(200, b"")

    def url_get(self) -> Any:
        req = self.request
        return self.runtime.to_lua({"url": req.url, "path": req.path, "query": req.query})

    def status_set_std(self, code: Any, message: Any = b"", mimetype: Any = None) -> bool:
        status = int(code)
        if not 100 <= status <= 599:
            raise ValueError(f"HTTP status {status} is out of range")
        self.response.status = status
        self.response.body = message if isinstance(message, bytes) else _text(message).encode()
        self.response.content_type = _text(mimetype) if mimetype else "text/plain"
        return True

    def header_set(self, name: Any, value: Any) -> bool:
        name_text, value_text = _text(name).strip(), _text(value)
        if not name_text or any(c in name_text + value_text for c in "\r\n") or ":" in name_text:
            raise ValueError(f"bad header {name_text!r}")
        self.response.headers = [(n, v) for n, v in self.response.headers
                                 if n.lower() != name_text.lower()]
        self.response.headers.append((name_text, value_text))
        return True


SESSION_METHODS = ("request_url_get", "request_method_get", "request_header_get", "request_body_get",
                   "request_remote_addr_get", "response_status_set_std", "response_header_set")


def _session_class(runtime: Any) -> Any:
    found = runtime.__dict__.get("_httpsrv_session_class")
    if found is None:
        methods = {
            "request_url_get": lambda s: s.url_get(),
            "request_method_get": lambda s: s.request.method.encode(),
            "request_header_get": lambda s, name: (
                None if s.request.header(_text(name)) is None
                else s.request.header(_text(name)).encode("latin-1", "replace")),
            "request_body_get": lambda s: s.request.body,
            "request_remote_addr_get": lambda s: s.request.peer_ip.encode(),
            "response_status_set_std": lambda s, *a: s.status_set_std(*a),
            "response_header_set": lambda s, name, value: s.header_set(name, value),
        }
        assert tuple(methods) == SESSION_METHODS  # what --list-functions prints
        found = runtime.sandbox.make_class(b"ec_httpsrv_session", runtime.table(methods))
        runtime.__dict__["_httpsrv_session_class"] = found
    return found


def serve(endpoint: Any, request: Any) -> Response:
    """Run one request through a Lua endpoint (see the module docstring)."""
    try:
        runtime = endpoint.runtime
        make = _session_class(runtime)
    except ReferenceError:
        return rest_error(503, "endpoint unavailable", "1500", "its script was unloaded")
    session = HttpSession(runtime, request)  # runtime: already a weak proxy
    result = runtime.call(endpoint.function, make(session),
                          what=f"httpsrv {request.method} {endpoint.path}")
    if not result.ok:
        return rest_error(500, "endpoint script error", "1500",
                          "the Lua handler failed; see the paniclog")
    return session.response


FUNCTIONS = {"msys.httpsrv.register": register}
