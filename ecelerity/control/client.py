"""A blocking client of the control channel: ec_console and the test helpers use it.

``ControlClient("var/run/control.sock")`` or ``ControlClient("127.0.0.1:2025")``
connects, checks the greeting (protocol.py), authenticates with SCRAM-SHA-256 when the
listener requires it or a user is given (``ControlClient("alice@127.0.0.1:2025",
password="...")``; ``AuthRequired`` when the daemon wants a user and none was given,
``AuthFailed`` when it refused the credentials) and runs commands one at a time with
``command(line) -> Reply``. Plain blocking sockets: never use it inside the daemon's
hub (the daemon serves, it does not call itself).
"""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from . import auth
from .protocol import MAX_LINE, ProtocolError, Reply, check_greeting, greeting_mechanisms, read_reply

DEFAULT_SOCKET = "var/run/control.sock"
_TCP_V6 = re.compile(r"\[([^\]]+)\]:(\d+)")
_TCP_V4 = re.compile(r"([^/:\s\[\]]*):(\d+)")


@dataclass(frozen=True)
class ControlAddress:
    kind: str  # "unix" | "tcp"
    path: str = ""
    host: str = ""
    port: int = 0
    user: str = ""

    def __str__(self) -> str:
        if self.kind == "unix":
            return self.path
        who = f"{self.user}@" if self.user else ""
        return who + (f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}")


def parse_address(text: str) -> ControlAddress:
    """``[user@]host:port``, ``[user@][v6]:port``, ``unix:PATH`` or a socket path."""
    user, at, rest = text.partition("@")
    if at and user and "/" not in user and parse_address(rest).kind == "tcp":
        found = parse_address(rest)
        return ControlAddress("tcp", host=found.host, port=found.port, user=user)
    if text.startswith("unix:"):
        return ControlAddress("unix", path=text[5:])
    match = _TCP_V6.fullmatch(text)
    if match:
        return ControlAddress("tcp", host=match.group(1), port=int(match.group(2)))
    match = _TCP_V4.fullmatch(text)
    if match:
        return ControlAddress("tcp", host=match.group(1) or "127.0.0.1", port=int(match.group(2)))
    return ControlAddress("unix", path=text)


class AuthRequired(ProtocolError):
    """The listener requires authentication and no user name was given."""


class AuthFailed(ProtocolError):
    """The daemon refused the credentials (or could not prove it knows them)."""


class ControlClient:
    def __init__(self, address: str | ControlAddress = DEFAULT_SOCKET, *, timeout: float = 60.0,
                 user: str | None = None, password: str | None = None,
                 get_password=None):
        self.address = address if isinstance(address, ControlAddress) else parse_address(address)
        self.timeout = timeout
        self.user = user or self.address.user
        self.password = password
        self._get_password = get_password  # called with the user name when no password is set
        self.authenticated_as = ""
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
            text = greeting.decode("utf-8", errors="replace")
            check_greeting(text)
            self._sock, self._reader = sock, reader
            if greeting_mechanisms(text) or self.user:
                self._authenticate(greeting_mechanisms(text))
        except BaseException:
            sock.close()
            self._sock = self._reader = None
            raise
        return self

    def _authenticate(self, mechanisms: list[str]) -> None:
        if mechanisms and auth.MECHANISM not in mechanisms:
            raise ProtocolError(f"the daemon wants {', '.join(mechanisms)}; this client speaks "
                                f"{auth.MECHANISM}")
        if not self.user:
            raise AuthRequired("the daemon requires authentication: connect as user@host:port")
        if self.password is None:
            self.password = self._get_password(self.user) if self._get_password else ""
        nonce = auth.new_nonce()
        first = self._send(f"AUTH {auth.MECHANISM} {self.user} {nonce}")
        if first.status != 334:
            raise AuthFailed(f"{first.status} {first.text}")
        try:
            proof, expected = auth.client_proof(self.user, self.password, nonce, first.text)
        except auth.AuthError as exc:
            self._send("*")
            raise AuthFailed(str(exc)) from None
        final = self._send(proof)
        if final.status != 235:
            raise AuthFailed(f"{final.status} {final.text}")
        signature = final.body[0][2:] if final.body and final.body[0].startswith("v=") else ""
        try:
            auth.check_server_signature(expected, signature)
        except auth.AuthError as exc:
            raise AuthFailed(str(exc)) from None
        self.authenticated_as = self.user

    def _send(self, line: str) -> Reply:
        self._sock.sendall(line.encode("utf-8") + b"\n")
        return read_reply(self._reader.readline)

    def command(self, line: str) -> Reply:
        """Send one command line and read its reply."""
        if self._sock is None:
            self.connect()
        if "\n" in line or "\r" in line:
            raise ValueError("a command is one line")
        return self._send(line)

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


def run_command(address: str, line: str, *, timeout: float = 60.0,
                password: str | None = None) -> Reply:
    """Connect (as the address's ``user@`` with ``password`` if any), run one command, close."""
    with ControlClient(address, timeout=timeout, password=password) as client:
        return client.command(line)
