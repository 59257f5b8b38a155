"""A clamd client: the INSTREAM command over a unix or TCP socket, on gevent sockets.

Called by antivirus/engines.py (one ClamdClient per ``clamav "name" { daemon = ... }``
engine). Protocol (clamd(8)): send ``zINSTREAM\\0``, then the data as chunks each
prefixed by its length (4 bytes, network order), then a zero-length chunk; clamd
answers one NUL-terminated line, ``stream: OK``, ``stream: <Virus> FOUND`` or
``... ERROR`` (``INSTREAM size limit exceeded. ERROR`` when StreamMaxLength is
passed). ``zPING`` answers ``PONG``, ``zVERSION`` the engine and database version.

Every call is bounded by ``timeout`` (gevent.Timeout around the whole exchange, so
a clamd that accepts and never answers cannot hold the session longer) and only
the calling greenlet waits: the hub never blocks. Failures never raise out of
``scan``: they come back as a ClamdReply with ``error`` set. Never reads config.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import gevent
from gevent import socket

CHUNK = 64 * 1024
MAX_REPLY = 4096


@dataclass(frozen=True)
class ClamdReply:
    """What clamd said: ``virus`` (the signature name) when infected, ``error`` when
    the scan did not happen or clamd reported an error, neither when clean."""

    raw: str = ""
    virus: str | None = None
    error: str | None = None

    @property
    def clean(self) -> bool:
        return self.virus is None and self.error is None


def parse_address(text: str) -> tuple[int, object]:
    """``/path/clamd.sock`` or ``unix:/path`` -> (AF_UNIX, path); ``host:port``,
    ``[v6]:port`` -> (AF_INET/AF_INET6, (host, port)). Raises ValueError."""
    text = text.strip()
    if text.startswith("unix:"):
        text = text[5:]
    if text.startswith("/"):
        return socket.AF_UNIX, text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
        family = socket.AF_INET6
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or ":" in host:
            raise ValueError(f"clamd address {text!r}: expected host:port, [v6]:port or /unix/path")
        family = socket.AF_INET
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"clamd address {text!r}: expected host:port, [v6]:port or /unix/path")
    return family, (host, int(port_text))


def parse_reply(line: str) -> ClamdReply:
    """Turn clamd's answer line into a ClamdReply."""
    text = line.strip("\0\r\n ")
    body = text.split(": ", 1)[1] if text.startswith("stream: ") else text
    if body == "OK":
        return ClamdReply(text)
    if body.endswith(" FOUND"):
        return ClamdReply(text, virus=body[:-6].strip() or "unknown")
    if body.endswith("ERROR"):
        return ClamdReply(text, error=body[:-5].strip(" .") or "clamd error")
    return ClamdReply(text, error=f"unexpected clamd reply {text!r}" if text else "empty clamd reply")


class ClamdClient:
    """Talks to one clamd. ``timeout`` bounds each whole command (connect to answer)."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.address = address
        self.family, self.sockaddr = parse_address(address)
        self.timeout = float(timeout)

    def scan(self, data: bytes | memoryview) -> ClamdReply:
        """INSTREAM ``data``; never raises."""
        view = memoryview(data)

        def exchange(sock: socket.socket) -> str:
            sock.sendall(b"zINSTREAM\0")
            for offset in range(0, len(view), CHUNK):
                piece = view[offset:offset + CHUNK]
                sock.sendall(struct.pack("!I", len(piece)) + bytes(piece))
            sock.sendall(struct.pack("!I", 0))
            return self._read_reply(sock)
        try:
            return parse_reply(self._run(exchange))
        except ClamdUnavailable as exc:
            return ClamdReply(error=str(exc))

    def command(self, name: str) -> str:
        """A one-line command (``PING``, ``VERSION``); raises ClamdUnavailable."""
        def exchange(sock: socket.socket) -> str:
            sock.sendall(b"z" + name.encode("ascii") + b"\0")
            return self._read_reply(sock)
        return self._run(exchange).strip("\0\r\n ")

    def _run(self, exchange) -> str:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            with gevent.Timeout(self.timeout, ClamdUnavailable(
                    f"clamd at {self.address} did not answer within {self.timeout:g}s")):
                sock.connect(self.sockaddr)
                return exchange(sock)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ClamdUnavailable(f"clamd at {self.address}: {reason}") from None
        finally:
            sock.close()

    @staticmethod
    def _read_reply(sock: socket.socket) -> str:
        buf = b""
        while b"\0" not in buf and len(buf) < MAX_REPLY:
            chunk = sock.recv(MAX_REPLY)
            if not chunk:
                break
            buf += chunk
        if not buf:
            raise ClamdUnavailable("clamd closed the connection without an answer")
        return buf.split(b"\0", 1)[0].decode("utf-8", "replace")


class ClamdUnavailable(Exception):
    """clamd could not be reached, timed out or hung up; the text says which."""
