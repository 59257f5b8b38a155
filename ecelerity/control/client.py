"""A blocking client of the control channel: ec_console and the test helpers use it.

``ControlClient("var/run/control.sock")`` or ``ControlClient("127.0.0.1:2025")``
connects, checks the greeting (protocol.py) and runs commands one at a time with
``command(line) -> Reply``. Plain blocking sockets: never use it inside the daemon's
hub (the daemon serves, it does not call itself).
"""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from .protocol import MAX_LINE, ProtocolError, Reply, check_greeting, read_reply

DEFAULT_SOCKET = "var/run/control.sock"
_TCP_V6 = re.compile(r"\[([^\]]+)\]:(\d+)")
_TCP_V4 = re.compile(r"([^/:\s\[\]]*):(\d+)")


@dataclass(frozen=True)
class ControlAddress:
    kind: str  # "unix" | "tcp"
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.kind == "unix":
            return self.path
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(text: str) -> ControlAddress:
    """``host:port``, ``[v6]:port``, ``unix:PATH`` or a socket path."""
    if text.startswith("unix:"):
        return ControlAddress("unix", path=text[5:])
    match = _TCP_V6.fullmatch(text)
    if match:
        return ControlAddress("tcp", host=match.group(1), port=int(match.group(2)))
    match = _TCP_V4.fullmatch(text)
    if match:
        return ControlAddress("tcp", host=match.group(1) or "127.0.0.1", port=int(match.group(2)))
    return ControlAddress("unix", path=text)


class ControlClient:
    def __init__(self, address: str | ControlAddress = DEFAULT_SOCKET, *, timeout: float = 60.0):
        self.address = address if isinstance(address, ControlAddress) else parse_address(address)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader = None

    def connect(self) -> "ControlClient":
        """Connect and read the greeting; OSError or ProtocolError when that fails."""
        addr = self.address
        if addr.kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: object = addr.path
        else:
            family = socket.AF_INET6 if ":" in addr.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            target = (addr.host, addr.port)
        sock.settimeout(self.timeout)
        try:
            sock.connect(target)
            reader = sock.makefile("rb")
            greeting = reader.readline(MAX_LINE)
            if not greeting:
                raise ProtocolError("connection closed before the greeting")
            check_greeting(greeting.decode("utf-8", errors="replace"))
        except BaseException:
            sock.close()
            raise
        self._sock, self._reader = sock, reader
        return self

    def command(self, line: str) -> Reply:
        """Send one command line and read its reply."""
        if self._sock is None:
            self.connect()
        if "\n" in line or "\r" in line:
            raise ValueError("a command is one line")
        self._sock.sendall(line.encode("utf-8") + b"\n")
        return read_reply(self._reader.readline)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = None

    def __enter__(self) -> "ControlClient":
        return self.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_command(address: str, line: str, *, timeout: float = 60.0) -> Reply:
    """Connect, run one command, close."""
    with ControlClient(address, timeout=timeout) as client:
        return client.command(line)
