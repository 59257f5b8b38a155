"""The WSGI application behind every HTTP Listen: read the request, bound it, dispatch it.

listener.py serves ``Router(service)`` on each Listen. Per request: the body is read
up to ``max_request_size`` (a larger Content-Length, or a chunked body that grows
past it, is answered ``413`` with Momentum's error shape, without reading the rest);
then ``POST /api/v1/transmissions`` and the legacy ``POST /v1.0/inject/`` go to
inject.py (API key checked first), and any other path to a Lua endpoint
(endpoints.py, served only while the httpsrv module is loaded). Unknown paths: 404
``1101 invalid URI``; a known path with another method: 405 ``1102``. Anything
raised while handling becomes a 500 and a paniclog traceback: never a traceback to
the client, never a dead listener. Never parses HTTP itself (pywsgi does).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .endpoints import endpoints_of, normalise_path
from .responses import Response, rest_error
from .settings import ListenSettings

READ_CHUNK = 64 * 1024
REST_ROUTES = {"/api/v1/transmissions": "transmissions", "/v1.0/inject": "legacy"}


@dataclass
class Request:
    """One HTTP request as the handlers see it (body fully read, within the limit)."""

    method: str
    path: str
    query: str
    version: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    peer_ip: str
    peer_port: int
    listen: str
    settings: ListenSettings
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _TooLarge(Exception):
    pass


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    found = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            found[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        found["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        found["content-length"] = environ["CONTENT_LENGTH"]
    return found


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    length_text = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length_text.strip().isdigit():
        length = int(length_text)
        if length > limit:
            raise _TooLarge()
        return stream.read(length) if length else b""
    chunks, total = [], 0
    while True:  # chunked (or no length): read until the end, never past the limit
        chunk = stream.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _TooLarge()


class Router:
    """The WSGI callable; ``service`` is the HTTPService (its ``app`` is the daemon App)."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self._respond(environ)
        if response.status == 413:
            response.headers.append(("Connection", "close"))  # the body was not read
        start_response(response.status_line(), response.wsgi_headers())
        return [response.body]

    def _respond(self, environ: dict[str, Any]) -> Response:
        app = self.service.app
        settings = environ.get("ecelerity.settings")
        listen = environ.get("ecelerity.listen", "")
        peer_ip = environ.get("REMOTE_ADDR") or "127.0.0.1"
        if settings is None:
            settings = ListenSettings.resolve(app.config, listen, peer_ip)
        try:
            body = _read_body(environ, settings.max_request_size)
        except _TooLarge:
            return rest_error(413, "request too large", "1300",
                              f"the request body exceeds max_request_size "
                              f"({settings.max_request_size} bytes)")
        except OSError as exc:  # idle_time ran out, or the client went away mid-body
            return rest_error(408, "request timeout", "1300", f"reading the body: {exc}")
        request = Request(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO") or "/", query=environ.get("QUERY_STRING", ""),
            version=environ.get("SERVER_PROTOCOL", "HTTP/1.1"), headers=_headers(environ),
            body=body, peer_ip=peer_ip, peer_port=int(environ.get("REMOTE_PORT") or 0),
            listen=listen, settings=settings)
        try:
            return self.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - a broken handler costs one request only
            app.log("http", f"{request.method} {request.path} from {peer_ip}: "
                            f"{type(exc).__name__}: {exc}")
            for line in traceback.format_exception(type(exc), exc, exc.__traceback__):
                app.log("http", line.rstrip("\n"))
            return rest_error(500, "internal error", "1500",
                              "the request failed inside the server; see the paniclog")

    def dispatch(self, request: Request) -> Response:
        route = REST_ROUTES.get(normalise_path(request.path))
        if route is not None:
            if request.method != "POST":
                return rest_error(405, "invalid HTTP method", "1102",
                                  f"{request.path} accepts POST only")
            from . import inject
            return inject.handle(self.service, route, request)
        table = endpoints_of(self.service.app)
        if table.enabled:
            endpoint = table.find(request.method, request.path)
            if endpoint is not None:
                from ..policy.lua.lib_httpsrv import serve
                return serve(endpoint, request)
        return rest_error(404, "invalid URI", "1101", f"no resource at {request.path}")
