"""The control channel wire protocol (ours: Momentum's is not public), version 1.

Transport: a unix stream socket (``Control_Listener { Listen "var/run/control.sock" {} }``)
or TCP. Text is UTF-8; lines end with LF (a CR before the LF is ignored).

1. On connect the server sends one greeting line: ``ecelerity-control 1``
   (the protocol name and version; a client refuses a version it does not know).
2. The client sends one command line, e.g. ``config eval Binding b1 Domain example.com
   max_outbound_connections``. Words are split like a POSIX shell (``"a b"`` and
   ``'a b'`` are one word, ``\\`` escapes). A word ``--json`` anywhere asks for a
   machine-readable body. A line longer than MAX_LINE bytes is refused (413) and the
   connection closed.
3. The server replies with:
     - a status line ``<code> <text>``: 2xx the command ran (``200 ok``); 4xx the request
       was wrong (400 bad arguments, 404 unknown command, 413 line too long); 5xx the
       command could not be carried out (500 internal error, 550 it failed, e.g.
       ``550 Reconfigure failed``);
     - the body, zero or more lines; a body line starting with ``.`` gets one more ``.``
       in front (dot-stuffing, as SMTP DATA);
     - a line holding a single ``.``.
   With ``--json`` the body is one JSON document (spread over lines, dot-stuffed the same).
4. The connection stays open for the next command until the client closes it, sends
   ``quit``, or stays idle longer than the listener's timeout.

Authentication (when the Listen has ``Enable_Authentication = true``; a Listen without it
is trusted: keep unix sockets' File_Mode tight and such TCP on loopback):

5. The greeting then names the mechanism: ``ecelerity-control 1 AUTH=SCRAM-SHA-256``, and
   every command but ``AUTH`` and ``quit`` is answered ``530 authentication required``.
6. SCRAM-SHA-256 (RFC 5802 without the GS2 header; auth.py computes it). The password never
   crosses the wire, so it is safe on non-loopback TCP (the commands after it are not
   encrypted: use an SSH tunnel for secrecy)::

       C: AUTH SCRAM-SHA-256 <user> <client nonce>
       S: 334 <salt b64> <iterations> <client nonce + server nonce>
       C: <client proof b64>                       (or ``*`` to give up)
       S: 235 authenticated as <user>   body: ``v=<server signature b64>``
       S: 535 authentication failed                (the third failure closes the connection)

   AUTH also works on a trusted Listen (to act as a named user). A user name is taken by
   the connection for authorization; unix-socket peers that do not AUTH are named by
   their uid (SO_PEERCRED).
7. With ``Enable_Authorization = true`` a command not allowed by the user's roles
   (authz.py) is answered ``403 permission denied: ...``.

This module only frames and parses; it never touches sockets, the registry or the App.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Callable, Iterable

PROTOCOL_NAME = "ecelerity-control"
PROTOCOL_VERSION = 1
GREETING = f"{PROTOCOL_NAME} {PROTOCOL_VERSION}"
MAX_LINE = 65536
END_OF_BODY = "."
JSON_FLAG = "--json"


class ProtocolError(Exception):
    """The other side broke the framing rules; str() says how."""


@dataclass
class Reply:
    status: int
    text: str
    body: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def body_text(self) -> str:
        return "".join(line + "\n" for line in self.body)


def dot_stuff(line: str) -> str:
    return "." + line if line.startswith(".") else line


def dot_unstuff(line: str) -> str:
    return line[1:] if line.startswith(".") else line


def body_lines(text_or_lines: str | Iterable[str]) -> list[str]:
    """Normalize handler output to a list of lines without line terminators."""
    if isinstance(text_or_lines, str):
        return text_or_lines.splitlines()
    lines: list[str] = []
    for item in text_or_lines:
        lines.extend(str(item).splitlines() or [""])
    return lines


def encode_reply(status: int, text: str, body: str | Iterable[str] = ()) -> bytes:
    """Frame one reply: status line, dot-stuffed body, end marker."""
    if not 100 <= status <= 599:
        raise ValueError(f"status {status} is not a 3-digit code")
    status_text = " ".join(str(text).split()) or "ok"
    out = [f"{status} {status_text}"]
    out.extend(dot_stuff(line) for line in body_lines(body))
    out.append(END_OF_BODY)
    return "".join(line + "\n" for line in out).encode("utf-8", errors="replace")


def decode_line(raw: bytes) -> str:
    """One received line, without its LF/CRLF."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", errors="replace")


def split_command(line: str) -> list[str]:
    """Words of a command line; raise ProtocolError on unbalanced quotes."""
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise ProtocolError(f"cannot split command line: {exc}") from None


def take_json_flag(words: list[str]) -> tuple[list[str], bool]:
    """Remove every ``--json`` word; say whether there was one."""
    kept = [w for w in words if w != JSON_FLAG]
    return kept, len(kept) != len(words)


def make_greeting(mechanisms: tuple[str, ...] = ()) -> str:
    """The greeting line; ``mechanisms`` non-empty means authentication is required."""
    return GREETING + "".join(f" AUTH={m}" for m in mechanisms)


def greeting_mechanisms(line: str) -> list[str]:
    """The ``AUTH=`` mechanisms a greeting requires (empty: the listener trusts us)."""
    return [w[5:] for w in line.split()[2:] if w.upper().startswith("AUTH=")]


def check_greeting(line: str) -> int:
    """Return the server's protocol version; raise ProtocolError when it is not ours."""
    name, _, rest = line.strip().partition(" ")
    version = rest.split(" ", 1)[0]
    if name != PROTOCOL_NAME or not version.isdigit():
        raise ProtocolError(f"not an ecelerity control channel (greeting {line.strip()[:80]!r})")
    if int(version) != PROTOCOL_VERSION:
        raise ProtocolError(f"server speaks protocol version {version}, this client {PROTOCOL_VERSION}")
    return int(version)


def read_reply(readline: Callable[[], bytes]) -> Reply:
    """Read one reply with ``readline`` (returns b"" at end of stream)."""
    raw = readline()
    if not raw:
        raise ProtocolError("connection closed before the reply")
    status_line = decode_line(raw)
    code, _, text = status_line.partition(" ")
    if len(code) != 3 or not code.isdigit():
        raise ProtocolError(f"bad status line {status_line[:80]!r}")
    body: list[str] = []
    while True:
        raw = readline()
        if not raw:
            raise ProtocolError("connection closed inside a reply body")
        line = decode_line(raw)
        if line == END_OF_BODY:
            return Reply(int(code), text, body)
        body.append(dot_unstuff(line))
