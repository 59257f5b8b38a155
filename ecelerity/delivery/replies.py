"""SMTP replies as the delivery client sees them: stage codes, Reply, SmtpFailure, dot-stuffing.

Who uses it: delivery/client.py (and, through its re-exports, engine.py, the queue's
deferral.py and the tests). Pure data and byte functions: no sockets, no config, no
logging. ``parse_reply(code, lines)`` turns the text lines of one reply into a Reply
(first enhanced status code, texts joined); ``dot_stuff`` makes a DATA payload.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# connection stage codes (momentum-facts.md §2.2)
NOT_CONNECTED, IDLE, MAIL, AFTER_MAIL, RCPT, AFTER_RCPT, DATA, AFTER_DATA = 0, 1, 2, 3, 4, 5, 6, 7
BODY, CONFIRMATION, EHLO, AFTER_EHLO, BANNER, RSET = 8, 9, 10, 11, 12, 13
STARTTLS, AFTER_STARTTLS, TLS_HANDSHAKE = 15, 16, 17

# A reply larger than this is refused (451 4.5.0): RFC 5321 allows 512-byte lines and
# real EHLO replies are a few hundred bytes; nothing legitimate comes near these.
MAX_REPLY_BYTES = 64 * 1024
MAX_REPLY_LINES = 256
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?:\s+|$)")


@dataclass
class Reply:
    """One SMTP reply; ``text`` is every line's text after the code and enhanced code."""

    code: int
    enhanced: str
    text: str

    def __str__(self) -> str:
        return " ".join(part for part in (str(self.code), self.enhanced, self.text) if part)

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 400


class SmtpFailure(Exception):
    """The connection or transaction failed; ``reply`` says why, ``stage`` where."""

    def __init__(self, reply: Reply, stage: int) -> None:
        super().__init__(f"{reply} (stage {stage})")
        self.reply, self.stage = reply, stage


def internal(code: int, enhanced: str, text: str) -> Reply:
    return Reply(code, enhanced, f"[internal] {text}")


def closed_by_remote() -> Reply:
    return internal(451, "4.4.2", "connection closed by remote host")


def timed_out() -> Reply:
    return internal(450, "4.4.1", "Connection Timed Out")




def parse_reply(code: int, lines: list[str]) -> Reply:
    """A Reply from the text after ``NNN-``/``NNN `` of each line of one reply."""
    enhanced = ""
    texts = []
    for text in lines:
        match = _ENHANCED.match(text)
        if match and str(code)[0] == match.group(1):
            enhanced = enhanced or f"{match.group(1)}.{match.group(2)}.{match.group(3)}"
            text = text[match.end():]
        texts.append(text)
    return Reply(code, enhanced, " ".join(t for t in texts if t))


_LINE_START_DOT = re.compile(rb"(?m)^\.")
_BARE_LF = re.compile(rb"(?<!\r)\n")


def dot_stuff(body: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled, then ``.CRLF``."""
    if body.count(b"\n") != body.count(b"\r\n"):   # two C scans beat a regex pass
        body = _BARE_LF.sub(b"\r\n", body)
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"
    if body.startswith(b".") or b"\n." in body:
        body = _LINE_START_DOT.sub(b"..", body)
    return body + b".\r\n"
