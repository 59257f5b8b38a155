"""Per-request HTTP_Listener settings, resolved once per connection from the Config.

listener.py resolves a ListenSettings for (Listen, client IP) when a connection
arrives, through the inbound resolver (``HTTP_Listener`` -> ``Listen`` -> ``Peer``
fallback), so a reload applies to the next connection. Never caches across
connections, never parses option values itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LISTENER = "http_listener"
DEFAULT_IDLE = 300.0
DEFAULT_MAX_REQUEST = 10 * 1024 * 1024  # when max_request_size is unset
DEFAULT_MAX_CONNECTIONS = 100


def inbound(cfg: Any, option: str, default: Any, *, listen: str | None,
            peer_ip: str | None = None) -> Any:
    """``cfg.get_inbound`` for the HTTP listener; ``default`` when unset or unknown."""
    try:
        value = cfg.get_inbound(option, listener=LISTENER, listen=listen, peer_ip=peer_ip)
    except (KeyError, LookupError):
        return default
    return default if value is None else value


@dataclass(frozen=True)
class ListenSettings:
    listen: str
    idle_time: float
    max_request_size: int
    log_requests_to_paniclog: bool
    rest_api_keys: tuple[str, ...]
    # HTTPS (listener.py): smtp/tls.py's profile_of reads these attributes by name
    use_ssl: bool = False
    tls_certificate: str | None = None
    tls_key: str | None = None
    tls_ciphers: str | None = None
    tls_protocols: str | None = None
    tls_client_ca: str | None = None
    tls_verify_mode: str | None = None

    @classmethod
    def resolve(cls, cfg: Any, listen: str, peer_ip: str | None) -> "ListenSettings":
        keys = inbound(cfg, "rest_api_keys", [], listen=listen, peer_ip=peer_ip)
        if isinstance(keys, str):
            keys = [keys]
        max_size = int(inbound(cfg, "max_request_size", 0, listen=listen, peer_ip=peer_ip) or 0)
        return cls(
            listen=listen,
            idle_time=float(inbound(cfg, "idle_time", DEFAULT_IDLE, listen=listen,
                                    peer_ip=peer_ip) or 0),
            max_request_size=max_size or DEFAULT_MAX_REQUEST,
            log_requests_to_paniclog=bool(inbound(cfg, "log_requests_to_paniclog", False,
                                                  listen=listen, peer_ip=peer_ip)),
            rest_api_keys=tuple(str(k) for k in keys if str(k)),
            use_ssl=bool(inbound(cfg, "use_ssl", False, listen=listen, peer_ip=peer_ip)),
            **{name: _text(inbound(cfg, name, None, listen=listen, peer_ip=peer_ip))
               for name in TLS_OPTIONS},
        )


TLS_OPTIONS = ("tls_certificate", "tls_key", "tls_ciphers", "tls_protocols", "tls_client_ca",
               "tls_verify_mode")


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def max_connections(cfg: Any, listen: str) -> int:
    value = int(inbound(cfg, "http_max_connections", DEFAULT_MAX_CONNECTIONS, listen=listen) or 0)
    return value if value > 0 else DEFAULT_MAX_CONNECTIONS
