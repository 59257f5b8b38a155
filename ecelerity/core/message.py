"""The message model shared by the spool, the policy engines and delivery.

``Message(raw)`` parses the top header block once (a case-insensitive multimap
that keeps raw bytes); the MIME tree is built only when ``mime()`` is first called.
Large spooled bodies (over ``large_message_threshold``) are mapped from their spool
segment instead of being read into memory (``Message.from_spool``). ``render()``
returns the original bytes untouched when nothing changed (DKIM-safe relaying) and
otherwise re-renders only the modified headers and parts.

Called by policy/ (Sieve, Lua), core/pcre_stream.py and delivery. Never raises on
malformed mail (defects are recorded), never blocks the hub beyond reading the
buffer it was given, never writes to the spool.
"""

from __future__ import annotations

import mmap
import os

from ecelerity.core.encodings import encode_text_body
from ecelerity.core.header_index import HeaderIndex, for_headers
from ecelerity.core.headers import Headers
from ecelerity.core.mime import Part
from ecelerity.core.spool_commit import segment_name

__all__ = ["DEFAULT_LARGE_MESSAGE_THRESHOLD", "Message", "configure"]

DEFAULT_LARGE_MESSAGE_THRESHOLD = 131072
_large_threshold = DEFAULT_LARGE_MESSAGE_THRESHOLD


def configure(cfg) -> None:
    """Take ``large_message_threshold`` from a Config (daemon start and reload)."""
    global _large_threshold
    value = cfg.get("large_message_threshold")
    _large_threshold = int(value) if value is not None else DEFAULT_LARGE_MESSAGE_THRESHOLD


def large_message_threshold() -> int:
    """The threshold in force: above it a spooled message is mapped, not read."""
    return _large_threshold


class Message:
    """A message: top headers parsed eagerly, MIME lazily, rendered on demand.

    raw is bytes or an mmap; start/end delimit the message inside it (a spool segment
    holds several messages), and every offset kept by the model is absolute in raw.
    """

    def __init__(self, raw, start: int = 0, end: int = -1) -> None:
        if isinstance(raw, (bytearray, memoryview)):
            raw = bytes(raw)
        self.source = raw
        self.start = start
        self.end = len(raw) if end < 0 else min(end, len(raw))
        headers, body_start, separator = Headers.parse(raw, start, self.end)
        self.headers = headers
        self.body_start = body_start
        self._separator = separator
        self._fields_end = start + sum(len(field.raw) for field in headers)
        self._root: Part | None = None
        self._body_override: bytes | None = None
        self._mapping: mmap.mmap | None = raw if isinstance(raw, mmap.mmap) else None
        self._replaced = False

    @classmethod
    def from_spool(cls, spool, spooled, *, large_threshold: int | None = None) -> Message:
        """The message of a spool.SpooledMessage: read when small, mapped when large.

        large_threshold defaults to the configured ``large_message_threshold``
        (``configure``). A mapped message holds the segment mapping until ``close()``.
        """
        if large_threshold is None:
            large_threshold = _large_threshold
        if spooled.size <= large_threshold:
            return cls(spool.read_body(spooled))
        path = os.path.join(spool.segment_dir, segment_name(spooled.segment))
        with open(path, "rb") as segment:
            mapping = mmap.mmap(segment.fileno(), 0, access=mmap.ACCESS_READ)
        return cls(mapping, spooled.data_offset, spooled.data_offset + spooled.size)

    def close(self) -> None:
        """Release a mapped spool body (the object must not be used afterwards)."""
        if self._mapping is not None:
            self._mapping.close()

    # -- headers (the top block) ---------------------------------------------------------
    @property
    def size(self) -> int:
        return self.end - self.start

    def header_index(self) -> HeaderIndex:
        """The top block's case-insensitive index (core/header_index.py): built on first
        use, rebuilt after any edit of ``headers`` (its ``version``) or ``replace_raw``."""
        return for_headers(self, self.headers)

    def header(self, name: str) -> list[str]:
        """Every value of name, unfolded and RFC 2047-decoded (Lua ``msg:header(name)``).
        A scan: cheapest for the few reads a relayed message gets; a caller reading many
        names, or the same ones again, uses ``header_index()`` (A/B in header_index.py)."""
        return self.headers.get_all(name)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    # -- body and MIME -------------------------------------------------------------------
    def mime(self) -> Part:
        """The root of the MIME tree (built on first call, shared afterwards)."""
        if self._root is None:
            self._root = Part(self.source, self.start, self.end, headers=self.headers,
                              body_start=self.body_start, separator=self._separator)
            self._root._fields_end = self._fields_end
            if self._body_override is not None:
                self._root.set_raw_body(self._body_override)
        return self._root

    def raw_body(self) -> bytes:
        """The body (after the header block) as it would be rendered now."""
        if self._root is not None:
            return self._root.raw_body()
        if self._body_override is not None:
            return self._body_override
        return bytes(self.source[self.body_start:self.end])

    def text(self) -> str:
        """Transfer-decoded body as str (Lua ``msg:text()``)."""
        return self.mime().text()

    def set_text(self, text: str) -> None:
        """Replace the whole body by text (Lua ``msg:text(new)``); MIME becomes text/plain."""
        raw, cte = encode_text_body(text, self.headers.eol)
        self.headers.replace("Content-Type", 'text/plain; charset="utf-8"')
        self.headers.replace("Content-Transfer-Encoding", cte)
        self.set_raw_body(raw)

    def set_raw_body(self, raw: bytes) -> None:
        """Replace the body bytes as they are (used by the *_replace forms)."""
        if self._root is not None:
            self._root.set_raw_body(raw)
        else:
            self._body_override = bytes(raw)

    def replace_raw(self, raw: bytes) -> None:
        """Take raw as the whole new message (raw_replace); it renders as modified."""
        self.close()
        self.__init__(raw)
        self._replaced = True

    # -- rendering -----------------------------------------------------------------------
    @property
    def modified(self) -> bool:
        if self._replaced:
            return True
        if self._root is not None:
            return self._root._is_dirty()
        return self.headers.changed or self._body_override is not None

    def defects(self) -> list[str]:
        """Every defect found so far in the tree (builds it: for ec_valid_mime)."""
        return self.mime().all_defects()

    def render(self) -> bytes:
        """The message bytes: the original ones when unmodified."""
        if self._root is not None:
            return self._root.render()
        if not self.modified or self._replaced:
            return bytes(self.source[self.start:self.end])
        separator = bytes(self.source[self._fields_end:self.body_start]) or self.headers.eol
        return self.headers.render() + separator + self.raw_body()
