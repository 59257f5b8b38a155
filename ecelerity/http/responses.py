"""HTTP responses the listener sends, and Momentum's REST error shape.

Used by router.py, inject.py and the Lua session (lib_httpsrv.py). A REST error is
``{"errors":[{"message","code","description"}]}`` with SparkPost/Momentum 4 extended
codes (1100 permission denied, 1101 invalid URI, 1102 invalid method, 1300 invalid
data, 1400 required field missing). Never does I/O.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.client import responses as _REASONS
from typing import Any


@dataclass
class Response:
    """One HTTP response: status code, headers and body bytes."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/plain; charset=utf-8"

    def status_line(self) -> str:
        return f"{self.status} {_REASONS.get(self.status, 'Unknown')}"

    def wsgi_headers(self) -> list[tuple[str, str]]:
        names = {name.lower() for name, _ in self.headers}
        extra = [] if "content-type" in names else [("Content-Type", self.content_type)]
        return extra + list(self.headers) + [("Content-Length", str(len(self.body)))]


def json_response(status: int, payload: Any) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, content_type="application/json")


def rest_error(status: int, message: str, code: str, description: str = "") -> Response:
    """Momentum's error body: ``{"errors":[{"message","code","description"}]}``."""
    entry = {"message": message, "code": code}
    if description:
        entry["description"] = description
    return json_response(status, {"errors": [entry]})


def unauthorized() -> Response:
    response = rest_error(401, "Unauthorized.", "1100",
                          "a valid API key is required in the Authorization header")
    response.headers.append(("WWW-Authenticate", 'Basic realm="ecelerity"'))
    return response


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode("utf-8"))
