"""HTTPService: the daemon service behind ``HTTP_Listener { Listen "ip:port" { } }``.

daemon/app.py lists it in SERVICE_FACTORIES (after SMTP, before Control) and calls
``start(app)``, ``reload(old_cfg, new_cfg)`` and ``stop(deadline)``
(daemon/service.py). Without an HTTP_Listener in the configuration it opens nothing.
Each enabled Listen gets one listener.HttpListener serving router.Router (HTTPS when
``use_ssl``: https.py; a Listen whose certificate cannot be loaded refuses to start
with its file:line:col, or is skipped and logged on reload); a reload
closes the Listens that went away and opens the new ones, and the Listens that stay
keep serving (settings are resolved per connection, so they follow the new
configuration). Uses ``app.spool`` / ``app.queue_manager`` through inject.py.
Stop: close the listening sockets, let requests in progress finish until the
deadline, then cut them. Never parses configuration or HTTP itself.
"""
from __future__ import annotations

import time
from typing import Any

from ecelerity.daemon.listen_socket import listen_socket

from . import https
from .listener import HttpListener
from .router import Router
from .settings import LISTENER, ListenSettings, inbound, max_connections


def _startup_error(message: str) -> Exception:
    from ..daemon.service import StartupError
    return StartupError(message)


class HTTPService:
    """See the module docstring."""

    name = "http"

    def __init__(self) -> None:
        self.app: Any = None
        self.servers: dict[str, HttpListener] = {}
        self.router = Router(self)

    def start(self, app: Any) -> None:
        self.app = app
        for spec in self._wanted(app.config).values():
            self._open(spec, app.config)

    def stop(self, deadline: float) -> None:
        servers, self.servers = list(self.servers.values()), {}
        for server in servers:
            server.close()
        for server in servers:
            server.pool.join(timeout=max(0.0, deadline - time.monotonic()))
            server.pool.kill(block=True, timeout=1.0)

    def reload(self, old_cfg: Any, new_cfg: Any) -> None:
        wanted = self._wanted(new_cfg)
        for name in list(self.servers):
            if name not in wanted:
                self.servers.pop(name).close()
        for name, spec in wanted.items():
            if name not in self.servers:
                try:
                    self._open(spec, new_cfg)
                except Exception as exc:  # noqa: BLE001 - a bad Listen must not stop the reload
                    self.app.log("http", f"reload: {exc}")

    def bound_addresses(self) -> dict[str, Any]:
        """Listen name -> the address actually bound."""
        return {name: server.bound for name, server in self.servers.items()}

    def _wanted(self, cfg: Any) -> dict[str, Any]:
        try:
            specs = cfg.listens(LISTENER)
        except KeyError:
            return {}
        return {spec.name: spec for spec in specs if spec.enabled}

    def _open(self, spec: Any, cfg: Any) -> None:
        try:  # use_ssl without a usable certificate: refuse, never serve plaintext instead
            https.startup_check(ListenSettings.resolve(cfg, spec.name, None), str(spec.loc))
        except https.HttpsConfigError as exc:
            raise _startup_error(str(exc)) from None
        backlog = int(inbound(cfg, "listen_backlog", 500, listen=spec.name))
        mode = int(inbound(cfg, "file_mode", 0o660, listen=spec.name))
        try:
            sock = listen_socket(spec, backlog, reuse_port=bool(getattr(cfg, "reuse_port", False)),
                                 file_mode=mode)
        except OSError as exc:
            raise _startup_error(f"cannot listen on {spec.name}: {exc.strerror or exc}") from None
        server = HttpListener(sock, self.router, listen=spec.name, app=self.app,
                              max_connections=max_connections(cfg, spec.name))
        server.start()
        self.servers[spec.name] = server
        self.app.log("http", f"HTTP listener on {spec.name}")
