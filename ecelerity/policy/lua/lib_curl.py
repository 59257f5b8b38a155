"""curl.* and msys.http.client: HTTP(S) from scripts, on pycurl, never blocking the hub.

Installed by libraries.py. Every transfer runs in gevent's OS thread pool
(lib_sync.run_blocking): only the calling session's greenlet waits. Only http:// and
https:// URLs are allowed (no file://, no other protocols, redirects included).
  curl.new() -> c; c:setopt(curl.OPT_*, value) -> true; c:perform() -> true, or nil,
      errmsg; c:getinfo(curl.INFO_RESPONSE_CODE) -> number; c:close() -> true
      Options: OPT_URL, OPT_POST, OPT_POSTFIELDS, OPT_HTTPHEADER (array of "Name: v"),
      OPT_CUSTOMREQUEST, OPT_TIMEOUT, OPT_CONNECTTIMEOUT, OPT_FOLLOWLOCATION,
      OPT_USERPWD, OPT_NOBODY, OPT_SSL_VERIFYPEER, OPT_SSL_VERIFYHOST, OPT_USERAGENT,
      OPT_WRITEFUNCTION / OPT_HEADERFUNCTION (fn(userdata, data) called after the
      transfer, on the session's greenlet, with the whole body / each header line),
      OPT_WRITEDATA / OPT_HEADERDATA (their first argument).
  curl.escape(s) / curl.unescape(s): URL (percent) encoding.
  msys.http.client.new() -> client; client:set_header(name, value);
      client:set_timeout(seconds); client:do_request(method, url [, body]) -> true, or
      nil, errmsg; client:get_status() -> code; client:get_body() -> string;
      client:get_headers() -> the raw header block; client:parse_headers() -> table
      (lower-case names; repeated headers joined with ", ").
Dependency: pycurl (which needs libcurl). Without it these functions raise an error.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .lib_sync import run_blocking

try:
    import pycurl
except ImportError:  # pragma: no cover - depends on the installation
    pycurl = None

OPTIONS = ("URL", "POST", "POSTFIELDS", "HTTPHEADER", "CUSTOMREQUEST", "TIMEOUT",
           "CONNECTTIMEOUT", "FOLLOWLOCATION", "USERPWD", "NOBODY", "SSL_VERIFYPEER",
           "SSL_VERIFYHOST", "USERAGENT", "WRITEFUNCTION", "HEADERFUNCTION", "WRITEDATA",
           "HEADERDATA")
INFOS = ("RESPONSE_CODE", "TOTAL_TIME", "CONTENT_TYPE", "EFFECTIVE_URL")
_DEFAULT_TIMEOUT = 30


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _need_pycurl() -> None:
    if pycurl is None:
        raise RuntimeError("HTTP from scripts needs pycurl (pip install pycurl)")


@dataclass
class Transfer:
    """One curl handle's settings and, after perform, its results (plain Python data)."""

    options: dict[str, Any] = field(default_factory=dict)
    callbacks: dict[str, Any] = field(default_factory=dict)  # WRITE/HEADER -> (fn, data)
    request_headers: dict[str, str] = field(default_factory=dict)  # msys.http.client
    status: int = 0
    body: bytes = b""
    header_lines: list[bytes] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def perform_blocking(transfer: Transfer) -> str | None:
    """Run the transfer (in a pool thread); returns an error text or None."""
    handle = pycurl.Curl()
    body: list[bytes] = []
    headers: list[bytes] = []
    try:
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.TIMEOUT, _DEFAULT_TIMEOUT)
        for name, value in transfer.options.items():
            handle.setopt(getattr(pycurl, name), value)
        handle.setopt(pycurl.WRITEFUNCTION, body.append)
        handle.setopt(pycurl.HEADERFUNCTION, headers.append)
        handle.perform()
        transfer.status = int(handle.getinfo(pycurl.RESPONSE_CODE))
        transfer.info = {name: handle.getinfo(getattr(pycurl, name)) for name in INFOS}
    except pycurl.error as exc:
        code, message = exc.args if len(exc.args) == 2 else (0, str(exc))
        return f"curl error {code}: {message}"
    finally:
        handle.close()
        transfer.body = b"".join(body)
        transfer.header_lines = headers
    return None


def _option_value(name: str, value: Any) -> Any:
    if name == "HTTPHEADER":
        items = value.values() if hasattr(value, "values") else [value]
        return [_text(item) for item in items]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value)
    if isinstance(value, bytes):
        return _text(value) if name != "POSTFIELDS" else value
    return value


class _CurlClasses:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        make = runtime.sandbox.make_class
        self.curl = make(b"curl", runtime.table({
            "setopt": self._setopt, "perform": self._perform, "getinfo": self._getinfo,
            "close": lambda t: True}))
        self.client = make(b"http_client", runtime.table({
            "set_header": lambda c, n, v: c.request_headers.update({_text(n): _text(v)}) or True,
            "set_timeout": lambda c, s: c.options.update(TIMEOUT=max(1, int(s))) or True,
            "do_request": self._do_request, "get_status": lambda c: c.status,
            "get_body": lambda c: c.body, "get_headers": lambda c: b"".join(c.header_lines),
            "parse_headers": self._parse_headers}))

    def _setopt(self, transfer: Transfer, option: Any, value: Any) -> bool:
        name = _text(option)
        if name not in OPTIONS:
            raise ValueError(f"unsupported curl option {name!r}")
        if name in ("WRITEFUNCTION", "HEADERFUNCTION"):
            transfer.callbacks[name] = self.runtime.sandbox.anchor(value)
        elif name in ("WRITEDATA", "HEADERDATA"):
            transfer.callbacks[name] = self.runtime.sandbox.anchor(value)
        else:
            transfer.options[name] = _option_value(name, value)
        return True

    def _perform(self, transfer: Transfer) -> Any:
        _need_pycurl()
        if "URL" not in transfer.options:
            raise ValueError("set curl.OPT_URL before perform")
        problem = run_blocking(perform_blocking, transfer)
        if problem is not None:
            return None, problem.encode()
        header_fn = transfer.callbacks.get("HEADERFUNCTION")
        for line in transfer.header_lines if header_fn is not None else []:
            header_fn(transfer.callbacks.get("HEADERDATA"), line)
        write_fn = transfer.callbacks.get("WRITEFUNCTION")
        if write_fn is not None and transfer.body:
            write_fn(transfer.callbacks.get("WRITEDATA"), transfer.body)
        return True

    def _getinfo(self, transfer: Transfer, info: Any) -> Any:
        value = transfer.info.get(_text(info))
        return value.encode() if isinstance(value, str) else value

    def _do_request(self, client: Transfer, method: Any, url: Any, body: Any = None) -> Any:
        _need_pycurl()
        verb = _text(method).upper()
        client.options.update(URL=_text(url), CUSTOMREQUEST=verb)
        client.options.pop("POSTFIELDS", None)
        client.options.pop("NOBODY", None)
        if verb == "HEAD":
            client.options["NOBODY"] = 1
        if body is not None:
            client.options["POSTFIELDS"] = body if isinstance(body, bytes) else _text(body)
        client.options["HTTPHEADER"] = [f"{k}: {v}" for k, v in client.request_headers.items()]
        problem = run_blocking(perform_blocking, client)
        return (None, problem.encode()) if problem else True

    def _parse_headers(self, client: Transfer) -> Any:
        parsed: dict[str, str] = {}
        for line in client.header_lines:
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                continue
            key = name.strip().lower()
            parsed[key] = f"{parsed[key]}, {value.strip()}" if key in parsed else value.strip()
        return self.runtime.to_lua(parsed)


def _classes(runtime: Any) -> _CurlClasses:
    found = runtime.__dict__.get("_curl_classes")
    if found is None:
        found = runtime.__dict__["_curl_classes"] = _CurlClasses(runtime)
    return found


def curl_new(runtime: Any) -> Any:
    _need_pycurl()
    return _classes(runtime).curl(Transfer())


def http_client_new(runtime: Any) -> Any:
    _need_pycurl()
    return _classes(runtime).client(Transfer(options={"TIMEOUT": _DEFAULT_TIMEOUT}))


def escape(runtime: Any, text: Any) -> bytes:
    return urllib.parse.quote_from_bytes(bytes(text), safe=b"").encode()


def unescape(runtime: Any, text: Any) -> bytes:
    return urllib.parse.unquote_to_bytes(bytes(text))


FUNCTIONS = {"curl.new": curl_new, "curl.escape": escape, "curl.unescape": unescape,
             "msys.http.client.new": http_client_new}
CONSTANTS = {f"curl.OPT_{name}": name.encode() for name in OPTIONS}
CONSTANTS.update({f"curl.INFO_{name}": name.encode() for name in INFOS})
