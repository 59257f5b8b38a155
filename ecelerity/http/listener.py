"""One HTTP Listen: a gevent WSGIServer with Momentum's per-connection bounds and request log.

service.py makes one HttpListener per enabled ``Listen`` of ``HTTP_Listener``. HTTP
parsing is gevent.pywsgi's (request line and header limits included); this module
adds: HTTPS when ``use_ssl`` is on for the client (https.py), ``idle_time`` (a socket timeout: a client silent that long is cut, between
requests or in the middle of one), ``http_max_connections`` (the size of the
greenlet pool; more clients wait in the listen backlog) and, when
``log_requests_to_paniclog`` is on for the client, one paniclog line per request in
Momentum's shape (momentum-facts.md §2.4):
``<ts>:<ip> "POST api/v1/transmissions HTTP/1.1" 200 224 5.000`` (bytes sent, ms).
Request bodies and their size limit are router.py's. Never blocks the hub.
"""
from __future__ import annotations

import socket
import time
from typing import Any

from gevent.pool import Pool
from gevent.pywsgi import WSGIHandler, WSGIServer

from .. import stats
from . import https
from .settings import ListenSettings


class _Handler(WSGIHandler):
    """pywsgi's handler with Momentum's request log line instead of the access log."""

    ecelerity_settings: ListenSettings | None = None  # set by HttpListener.handle
    ecelerity_tls: dict[str, str] | None = None  # https.tls_environ of an HTTPS connection

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["ecelerity.settings"] = self.ecelerity_settings
        if self.ecelerity_tls:
            environ.update(self.ecelerity_tls)
        return environ

    def log_request(self) -> None:
        settings = self.ecelerity_settings
        if settings is None or not settings.log_requests_to_paniclog:
            return
        server: HttpListener = self.server
        finished = self.time_finish or time.time()
        elapsed_ms = (finished - self.time_start) * 1000.0
        parts = (self.requestline or "").split()
        if len(parts) == 3:
            parts[1] = parts[1].lstrip("/")  # Momentum logs "api/v1/transmissions"
        status = (self._orig_status or self.status or "000").split()[0]
        ip = self.client_address[0] if isinstance(self.client_address, tuple) else "local"
        line = f'"{" ".join(parts)}" {status} {self.response_length or 0} {elapsed_ms:.3f}'
        server.write_request_line(ip, line)


class _ErrorLog:
    """pywsgi's error log (tracebacks of broken applications) into the paniclog."""

    def __init__(self, write: Any) -> None:
        self._write = write

    def write(self, text: str) -> None:
        for line in str(text).splitlines():
            if line.strip():
                self._write(line)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass


class HttpListener(WSGIServer):
    """A WSGIServer for one Listen; ``app`` is the daemon App (config, paniclog)."""

    handler_class = _Handler

    def __init__(self, sock: socket.socket, application: Any, *, listen: str, app: Any,
                 max_connections: int) -> None:
        self.listen_name = listen
        self.daemon_app = app
        super().__init__(sock, application, spawn=Pool(max_connections), log=None,
                         error_log=_ErrorLog(lambda text: app.log("http", text)))

    def handle(self, sock: Any, address: Any) -> None:
        peer_ip = address[0] if isinstance(address, tuple) and address else None
        settings = ListenSettings.resolve(self.daemon_app.config, self.listen_name, peer_ip)
        if settings.idle_time > 0:
            sock.settimeout(settings.idle_time)
        tls: dict[str, str] | None = None
        if settings.use_ssl:
            sock = https.wrap(sock, settings, peer_ip or "local", self._log, self._count_tls)
            if sock is None:
                return
            tls = https.tls_environ(sock)
        handler = self.handler_class(sock, address, self)
        handler.ecelerity_settings = settings
        handler.ecelerity_tls = tls
        handler.handle()

    def _log(self, text: str) -> None:
        self.daemon_app.log("http", text)

    def _count_tls(self, outcome: str) -> None:
        try:
            stats.for_app(self.daemon_app).record(f"tls_inbound_{outcome}")
        except Exception as exc:  # noqa: BLE001 - a counter never costs a connection
            self._log(f"stats update failed: {exc}")

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["ecelerity.listen"] = self.listen_name
        return environ

    def write_request_line(self, ip: str, text: str) -> None:
        """The request log line: ``<ts>:<ip> <text>`` (see the module docstring)."""
        self.daemon_app.paniclog.write_raw(f"{ip} {text}")

    @property
    def bound(self) -> Any:
        return self.socket.getsockname()
