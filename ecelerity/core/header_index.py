"""A case-insensitive index of one top-level header block, built once, read by every engine.

``HeaderIndex`` maps each lower-case field name to its fields, in order, and caches the
decoded values per name, so a message's phases (Sieve ``header`` tests, Lua
``msg:header``, core.message.Message.header) split the block once and decode each name
once, instead of re-scanning it per read. Values are exactly core.headers'
(``HeaderField.value``: unfolded, RFC 2047-decoded, 8-bit read as UTF-8).

Who calls it: core/message.py (``Message.header``/``get``, keyed on the Headers object
and its ``version``) and, through ``for_inbound``, anything holding an
smtp.accept.InboundMessage (keyed on the identity of its trace / header block /
separator bytes). Invalidation never depends on a caller remembering to do it: an edit
either bumps ``Headers.version`` or replaces the (immutable) bytes, and either makes the
cached index stale on the next read. It never copies the body, never raises on
malformed input and never mutates what it indexes; the lists it returns are shared
(read-only) unless a method says it copies.
"""
from __future__ import annotations

from typing import Any

from ecelerity._speedups.mimescan import split_headers, unfold
from ecelerity.core.encodings import decode_header_words
from ecelerity.core.headers import HeaderField, Headers

__all__ = ["HeaderIndex", "for_inbound", "for_headers"]

_EMPTY: list[str] = []
_KEYS: dict[bytes, str] = {}  # field name as written -> lower-case key (names repeat a lot)
_KEYS_MAX = 4096


class HeaderIndex:
    """key (lower-case name) -> raw values (unfolded bytes) and decoded values, on demand.

    Built from bytes (``of_block``: one ``split_headers`` scan, values sliced lazily) or
    from a Headers (``of_headers``: its HeaderFields)."""

    __slots__ = ("_block", "_entries", "_decoded", "_names")

    def __init__(self, block: bytes, entries: dict[str, list], names: list) -> None:
        self._block = block
        # key -> [(start, colon, end) span in block] or [HeaderField]
        self._entries = entries
        self._decoded: dict[str, list[str]] = {}
        self._names = names  # in order: the HeaderFields, or the (start, colon, end) spans

    @classmethod
    def of_block(cls, head: bytes) -> HeaderIndex:
        """Index the fields of ``head`` (a header block; with its empty line or not)."""
        spans, _body_start, _separated = split_headers(head, 0, len(head))
        entries: dict[str, list] = {}
        keys = _KEYS
        for span in spans:
            name = head[span[0]:span[1]]
            key = keys.get(name)
            if key is None:
                # bytes.lower() folds ASCII only, like str.lower() on the latin-1 name
                # for every name split_headers accepts (printable ASCII)
                key = name.lower().decode("latin-1")
                if len(keys) >= _KEYS_MAX:
                    keys.clear()  # bounded: odd names from odd mail cannot grow it
                keys[name] = key
            bucket = entries.get(key)
            if bucket is None:
                entries[key] = [span]
            else:
                bucket.append(span)
        return cls(head, entries, spans)

    @classmethod
    def of_headers(cls, headers: Headers) -> HeaderIndex:
        """Index a Headers' fields as they are now (see ``for_headers`` for the cache)."""
        entries: dict[str, list] = {}
        fields = headers._fields  # noqa: SLF001 - read-only walk, no list copy
        for field in fields:
            key = field._key  # noqa: SLF001 - the slot behind the ``key`` property
            bucket = entries.get(key)
            if bucket is None:
                entries[key] = [field]
            else:
                bucket.append(field)
        return cls(b"", entries, list(fields))  # a snapshot: append() edits in place

    def has(self, key: str) -> bool:
        """Whether a field named ``key`` (lower-case) exists."""
        return key in self._entries

    def count(self, key: str) -> int:
        return len(self._entries.get(key, _EMPTY))

    def names(self) -> list[str]:
        """Every field name as written, in order (a copy)."""
        names = self._names
        if names and names[0].__class__ is HeaderField:
            return [field.name for field in names]
        head = self._block  # of_block: (start, colon, end) spans
        return [head[start:colon].decode("latin-1") for start, colon, _end in names]

    def raw_values(self, key: str) -> list[bytes]:
        """Unfolded, undecoded values of the fields named ``key`` (lower-case)."""
        return [self._raw(entry) for entry in self._entries.get(key, _EMPTY)]

    def values(self, key: str) -> list[str]:
        """Decoded values of the fields named ``key`` (lower-case). Shared: do not mutate."""
        values = self._decoded.get(key)
        if values is None:
            entries = self._entries.get(key)
            values = self._decoded[key] = [
                decode_header_words(self._raw(entry).decode("utf-8", errors="replace"))
                for entry in entries] if entries else _EMPTY
        return values

    def first(self, key: str, default: str | None = None) -> str | None:
        """The first decoded value of ``key`` (lower-case), or default."""
        values = self._decoded.get(key) or self.values(key)
        return values[0] if values else default

    def _raw(self, entry: Any) -> bytes:
        if entry.__class__ is HeaderField:
            return entry.raw_value()
        return unfold(self._block[entry[1] + 1:entry[2]])  # a (start, colon, end) span


def for_headers(holder: Any, headers: Headers) -> HeaderIndex:
    """The index of ``headers``, cached in ``holder.__dict__`` until headers changes (any
    Headers mutation bumps ``version``; a new Headers object is a new key)."""
    cached = holder.__dict__.get("_header_index")
    if cached is not None and cached[0] is headers and cached[1] == headers.version:
        return cached[2]
    index = HeaderIndex.of_headers(headers)
    holder.__dict__["_header_index"] = (headers, headers.version, index)
    return index


def for_inbound(inbound: Any) -> HeaderIndex:
    """The index of an smtp.accept.InboundMessage's header fields (trace included), kept
    on the message while its ``trace``, ``header_block`` and ``separator`` are the very
    same bytes objects: any edit assigns new bytes, so it can never be missed."""
    trace, block, separator = inbound.trace, inbound.header_block, inbound.separator
    cached = inbound.__dict__.get("_header_index")
    if cached is not None and cached[0] is trace and cached[1] is block and cached[2] is separator:
        return cached[3]
    head = bytes(trace) + bytes(block) + bytes(separator)
    index = HeaderIndex.of_block(head)
    if trace.__class__ is bytes and block.__class__ is bytes and separator.__class__ is bytes:
        # only immutable bytes can be keyed by identity (a bytearray edits in place)
        inbound.__dict__["_header_index"] = (trace, block, separator, index)
    return index
