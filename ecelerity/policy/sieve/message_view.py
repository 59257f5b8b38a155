"""What the Sieve engine reads from a message: headers, envelope, size, body parts.

Wraps ecelerity/core/message.Message (the shared message model: header multimap
over the raw bytes, lazy MIME tree), so the daemon's phases and the offline tester
read a message the same way Lua and delivery do. Header values are unfolded and
RFC 2047-decoded. The only writes are Sieve++ header edits (``edit_header``), which
change this view's copy so later reads in the same run see them; applying them to
the message that is spooled is the session's job (through the vctx). Body parts are
decoded with the stdlib ``email`` parser, which is what the Pigeonhole differential
tests were built against.
"""
from __future__ import annotations

import email
import email.policy
from email.message import Message as EmailMessage
from email.utils import getaddresses

from ...core.encodings import decode_header_words
from ...core.message import Message


class MessageView:
    """Lazy accessors over a core Message; all header-name lookups are case-insensitive."""

    def __init__(self, raw: bytes | Message, envelope_from: str = "", envelope_to: str = "",
                 auth: str = ""):
        self.model = raw if isinstance(raw, Message) else Message(raw)
        self.envelope = {"from": envelope_from, "to": envelope_to, "auth": auth}
        self._email: EmailMessage | None = None
        self._size: int | None = None
        self._cache: dict[tuple[str, str], list[str]] = {}  # (kind, name) -> values; edits clear it

    @property
    def raw(self) -> bytes:
        return self.model.render()

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = self.model.size if not self.model.modified else len(self.model.render())
        return self._size

    @property
    def message(self) -> EmailMessage:
        if self._email is None:
            self._email = email.message_from_bytes(self.model.render(), policy=email.policy.compat32)
        return self._email

    def raw_headers(self, name: str) -> list[str]:
        """Unfolded, undecoded values of every field called ``name``."""
        return [value.decode("utf-8", "replace").strip() for value in self.model.headers.get_raw(name)]

    def headers(self, name: str) -> list[str]:
        """Unfolded and RFC 2047-decoded values of every field called ``name``."""
        key = ("decoded", name.lower())
        values = self._cache.get(key)
        if values is None:
            values = self._cache[key] = self.model.headers.get_all(name)
        return values

    def has_header(self, name: str) -> bool:
        return name in self.model.headers

    def header_names(self) -> list[str]:
        return self.model.headers.names()

    def addresses(self, name: str) -> list[str]:
        """Addresses (``local@domain``, no display names) in every field called ``name``."""
        key = ("address", name.lower())
        values = self._cache.get(key)
        if values is None:
            values = self._cache[key] = [addr for value in self.raw_headers(name)
                                         for _display, addr in getaddresses([value]) if addr]
        return values

    def edit_header(self, mode: str, name: str, value: str | None) -> None:
        """Sieve++ edits: mode prepend | append | replace | delete."""
        headers = self.model.headers
        if mode == "delete":
            headers.delete(name)
        elif mode == "prepend":
            headers.prepend(name, value or "")
        elif mode == "replace":
            headers.replace(name, value or "")
        else:
            headers.append(name, value or "")
        self._email, self._size = None, None
        self._cache.clear()

    def body_raw(self) -> str:
        """The body after the header block, undecoded."""
        return self.model.raw_body().decode("utf-8", "replace")

    def body_parts(self, content_types: list[str] | None) -> list[str]:
        """Decoded leaf parts whose type matches (``None`` = text/* only, the :text form).

        A content type entry is "type/subtype", "type" or "" (every leaf part).
        """
        out: list[str] = []
        for part in self.message.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type().lower()
            if content_types is None:
                if not ctype.startswith("text/"):
                    continue
            elif not any(_type_matches(ctype, want) for want in content_types):
                continue
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "us-ascii"
            try:
                out.append(payload.decode(charset, "replace"))
            except LookupError:
                out.append(payload.decode("utf-8", "replace"))
        return out


def _type_matches(ctype: str, want: str) -> bool:
    want = want.lower()
    if want == "":
        return True
    if "/" in want:
        return ctype == want
    return ctype.split("/", 1)[0] == want


def unfold(value: str) -> str:
    return value.replace("\r\n", "").replace("\n", "").strip()


def decode_rfc2047(value: str) -> str:
    return decode_header_words(value) if "=?" in value else value
