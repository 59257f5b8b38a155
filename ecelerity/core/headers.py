"""Header block of a message or MIME part: an ordered, case-insensitive multimap.

Parsed once (by ecelerity/_speedups/mimescan.split_headers) into fields that keep
their raw bytes, folding included, so an untouched block renders byte-identical
(DKIM depends on it). Reads unfold and RFC 2047-decode; writes RFC 2047-encode
non-ASCII text. Used by core/message.py, core/mime.py and the policy engines
(Sieve ``header``, Lua ``msg:header``). Never raises on malformed input and never
copies the body: it only ever sees the header block.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from urllib.parse import unquote_to_bytes

from ecelerity._speedups.mimescan import split_headers, unfold
from ecelerity.core.encodings import decode_header_words, encode_header_words

_FIELD_NAME = re.compile(r"[!-9;-~]+\Z")  # printable ASCII without ':' (RFC 5322 ftext)

__all__ = ["HeaderField", "Headers", "parse_content_header"]


class HeaderField:
    """One field: its name as written and its raw bytes up to and including the line end."""

    __slots__ = ("name", "raw", "_key", "_colon")

    def __init__(self, name: str, raw: bytes, colon: int) -> None:
        self.name = name
        self.raw = raw
        self._key = name.lower()
        self._colon = colon

    @property
    def key(self) -> str:
        return self._key

    def raw_value(self) -> bytes:
        """The bytes after the colon, unfolded and stripped, still transfer/2047 encoded."""
        return unfold(self.raw[self._colon + 1 :])

    def value(self) -> str:
        """Unfolded, RFC 2047-decoded value (8-bit bytes read as UTF-8, bad ones replaced)."""
        return decode_header_words(self.raw_value().decode("utf-8", errors="replace"))

    def __repr__(self) -> str:
        return f"HeaderField({self.name!r}, {self.raw!r})"


class Headers:
    """Ordered multimap of HeaderField; ``version`` counts mutations (0 = as received)."""

    def __init__(self, fields: list[HeaderField] | None = None, eol: bytes = b"\r\n") -> None:
        self._fields: list[HeaderField] = list(fields or [])
        self.eol = eol
        self.version = 0

    @classmethod
    def parse(cls, data, start: int = 0, end: int = -1) -> tuple[Headers, int, bool]:
        """Headers of data[start:end], the offset where the body starts, and whether an
        empty line separated them (False: the block was cut short, a defect)."""
        spans, body_start, separator = split_headers(data, start, end)
        fields = [
            HeaderField(
                bytes(data[field_start:colon]).decode("latin-1"),
                bytes(data[field_start:field_end]),
                colon - field_start,
            )
            for field_start, colon, field_end in spans
        ]
        eol = b"\r\n"
        if fields and not fields[0].raw.endswith(b"\r\n") and fields[0].raw.endswith(b"\n"):
            eol = b"\n"
        return cls(fields, eol), body_start, separator

    # -- reading -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._fields)

    def __iter__(self) -> Iterator[HeaderField]:
        return iter(list(self._fields))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(f.key == name.lower() for f in self._fields)

    @property
    def changed(self) -> bool:
        return self.version != 0

    def fields(self, name: str) -> list[HeaderField]:
        key = name.lower()
        return [field for field in self._fields if field.key == key]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of name, decoded; default when absent."""
        key = name.lower()
        for field in self._fields:
            if field.key == key:
                return field.value()
        return default

    def get_all(self, name: str) -> list[str]:
        return [field.value() for field in self.fields(name)]

    def get_raw(self, name: str) -> list[bytes]:
        """Raw values (unfolded, not decoded) of every field named name."""
        return [field.raw_value() for field in self.fields(name)]

    def names(self) -> list[str]:
        return [field.name for field in self._fields]

    # -- writing -------------------------------------------------------------
    def make_field(self, name: str, value: str) -> HeaderField:
        """A new field; non-ASCII value text is RFC 2047 encoded. Raises ValueError on a
        name that is not printable ASCII without ':' or a value that would add a line."""
        if _FIELD_NAME.match(name) is None:
            raise ValueError(f"invalid header name {name!r}")
        if value.isascii() and "\n" not in value and "\r" not in value and "=?" not in value:
            # the common case (policy-added headers): nothing to flatten or encode
            return HeaderField(name, f"{name}: {value}".encode("ascii") + self.eol, len(name))
        flat = value.replace("\r\n", " ").replace("\n", " ")
        encoded = encode_header_words(flat, len(name) + 2)
        raw = (name + ": " + encoded).encode("utf-8").replace(b"\r\n", self.eol) + self.eol
        return HeaderField(name, raw, len(name.encode("utf-8")))

    def append(self, name: str, value: str) -> None:
        self._fields.append(self.make_field(name, value))
        self.version += 1

    add = append

    def prepend(self, name: str, value: str) -> None:
        self._fields.insert(0, self.make_field(name, value))
        self.version += 1

    def replace(self, name: str, value: str) -> None:
        """Momentum 'replace': delete every field named name, then append one."""
        field = self.make_field(name, value)
        self.delete(name)
        self._fields.append(field)
        self.version += 1

    def delete(self, name: str) -> int:
        """Remove every field named name; returns how many were removed."""
        key = name.lower()
        kept = [field for field in self._fields if field.key != key]
        removed = len(self._fields) - len(kept)
        if removed:
            self._fields = kept
            self.version += 1
        return removed

    def render(self) -> bytes:
        """The header block as bytes (without the empty separator line)."""
        pieces = [field.raw for field in self._fields]
        for index in range(len(pieces) - 1):  # a cut-short last line gained a successor
            if not pieces[index].endswith(b"\n"):
                pieces[index] += self.eol
        return b"".join(pieces)


_PARAM_SECTION = re.compile(r"^(?P<name>[^*]+)(?:\*(?P<section>\d+))?(?P<encoded>\*)?$")


def parse_content_header(value: str) -> tuple[str, dict[str, str]]:
    """Content-Type/-Disposition value -> (lower-cased main value, {param: value}).

    Handles quoted strings, backslash escapes and RFC 2231 (``name*=utf-8''%E2%82%AC``,
    ``name*0=`` continuations). Keys are lower-cased. Never raises.
    """
    items = _split_params(value)
    main = items[0].strip().lower() if items else ""
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    for item in items[1:]:
        name, equals, raw = item.partition("=")
        if not equals:
            continue
        match = _PARAM_SECTION.match(name.strip().lower())
        if not match:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        section = int(match["section"]) if match["section"] else 0
        sections.setdefault(match["name"], []).append((section, bool(match["encoded"]), raw))
    params: dict[str, str] = {}
    for name, pieces in sections.items():
        pieces.sort(key=lambda piece: piece[0])
        charset = None
        texts = []
        for index, (_, encoded, raw) in enumerate(pieces):
            if encoded and index == 0 and raw.count("'") >= 2:
                charset, _, raw = raw.split("'", 2)
            texts.append(unquote_to_bytes(raw) if encoded else raw.encode("utf-8", "replace"))
        params[name] = b"".join(texts).decode(_codec_or_utf8(charset), errors="replace")
    return main, params


def _split_params(value: str) -> list[str]:
    items, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items


def _codec_or_utf8(charset: str | None) -> str:
    try:
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"
