"""What the Sieve engine reads from a message: headers, envelope, size, body parts.

Built over raw RFC 5322 bytes with Python's ``email`` package; kept small so it can
later be backed by ecelerity/core/message.py without touching the engine. Read-only:
never modifies the message. Header values are unfolded and RFC 2047-decoded.
"""
from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses


class MessageView:
    """Lazy, cached accessors; all header-name lookups are case-insensitive."""

    def __init__(self, raw: bytes, envelope_from: str = "", envelope_to: str = "",
                 auth: str = ""):
        self.raw = raw
        self.envelope = {"from": envelope_from, "to": envelope_to, "auth": auth}
        self._msg: Message | None = None
        self._headers: dict[str, list[str]] | None = None
        self._decoded: dict[str, list[str]] = {}
        self._addresses: dict[str, list[str]] = {}

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def message(self) -> Message:
        if self._msg is None:
            self._msg = email.message_from_bytes(self.raw, policy=email.policy.compat32)
        return self._msg

    def _header_map(self) -> dict[str, list[str]]:
        if self._headers is None:
            table: dict[str, list[str]] = {}
            for name, value in self.message.items():
                table.setdefault(name.lower(), []).append(value if isinstance(value, str) else str(value))
            self._headers = table
        return self._headers

    def raw_headers(self, name: str) -> list[str]:
        """Unfolded, undecoded values of every field called ``name``."""
        return [unfold(v) for v in self._header_map().get(name.lower(), [])]

    def headers(self, name: str) -> list[str]:
        """Unfolded and RFC 2047-decoded values of every field called ``name``."""
        key = name.lower()
        if key not in self._decoded:
            self._decoded[key] = [decode_rfc2047(v) for v in self.raw_headers(key)]
        return self._decoded[key]

    def has_header(self, name: str) -> bool:
        return name.lower() in self._header_map()

    def addresses(self, name: str) -> list[str]:
        """Addresses (``local@domain``, no display names) in every field called ``name``."""
        key = name.lower()
        if key not in self._addresses:
            self._addresses[key] = [addr for value in self.raw_headers(key)
                                    for _display, addr in getaddresses([value]) if addr]
        return self._addresses[key]

    def body_raw(self) -> str:
        """The body after the header block, undecoded."""
        raw = self.raw
        for sep in (b"\r\n\r\n", b"\n\n"):
            at = raw.find(sep)
            if at >= 0:
                return raw[at + len(sep):].decode("utf-8", "replace")
        return ""

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
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value
