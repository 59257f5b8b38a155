"""What the Sieve engine reads from a message: headers, envelope, size, body parts.

Wraps ecelerity/core/message.Message (the shared message model: header multimap
over the raw bytes, lazy MIME tree), so the daemon's phases and the offline tester
read a message the same way Lua and delivery do. Header values are unfolded and
RFC 2047-decoded. For speed (one view per hook call) the view indexes the raw header
block itself and builds the Message only when needed (see the class docstring). The
only writes are Sieve++ header edits (``edit_header``), which change this view's copy
so later reads in the same run see them; applying them to the message that is spooled
is the session's job (through the vctx). Mixed in: addresses and envelope parts
(message_addresses.py), body parts (message_body.py).
"""
from __future__ import annotations

from email.message import Message as EmailMessage
from typing import Callable

from ..._speedups.mimescan import split_headers
from ..._speedups.mimescan import unfold as unfold_bytes
from ...core.encodings import decode_header_words
from ...core.headers import HeaderField, Headers
from ...core.message import Message
from .matchers import _ASCII_LOWER
from .message_addresses import AddressAccess
from .message_body import BodyAccess
from .message_body import type_matches as _type_matches  # noqa: F401  (its old home)


# Headers objects used only for make_field (which reads nothing but ``eol``), per eol
_FIELD_MAKERS: dict[bytes, Headers] = {}


class MessageView(AddressAccess, BodyAccess):
    """Lazy accessors over a core Message; all header-name lookups are case-insensitive.

    Built from bytes, the view reads headers straight from the raw block (one
    ``split_headers`` scan, values decoded per name on first read) and creates the
    core Message only when something needs it (``model``: body, rendering, non-prepend
    edits). Prepended fields (``ec_header_add``) are kept pending and replayed on the
    Message when it is created, so a script that only adds headers never builds it.

    Per-message caches (read inline by codegen.py): ``decoded`` values per name,
    ``_cache`` (addresses and parts, and ("fold", name) -> a one-field header's folded
    value), ``_envelope_parts``; an edit drops the edited name's entries, so no read
    after an edit returns stale headers.

    ``MessageView.of_parts`` (the daemon's phases) starts from the header block alone:
    the body is joined only when something reads it (``model``, ``body_*``), and the
    header index is shared by every view of the same message bytes (the phases of one
    message), copied only by a view that edits headers.
    """

    def __init__(self, raw: bytes | Message, envelope_from: str = "", envelope_to: str = "",
                 auth: str = ""):
        if isinstance(raw, Message):
            self._model: Message | None = raw
            self._raw = b""
        else:
            self._model = None
            self._raw = raw if raw.__class__ is bytes else bytes(raw)
        self.envelope = {"from": envelope_from, "to": envelope_to, "auth": auth}
        self._email: EmailMessage | None = None
        self._size: int | None = None
        self._cache: dict[tuple[str, str], list[str]] = {}  # ("address" or part, key) -> addresses
        self._envelope_parts: dict[tuple[str, str], tuple[str, list[str]]] = {}  # (name, part) ->
        self._index: dict[str, list] | None = None  # key -> HeaderField | (start, colon, end) in raw
        self.decoded: dict[str, list[str]] = {}  # lower-case name -> decoded values (read-only)
        self._pending: list[tuple[str, str, HeaderField]] = []  # prepends not yet on the model
        self._eol, self._separator = b"\r\n", False
        self._full: Callable[[], bytes] | None = None  # of_parts: loads the whole message
        self._full_size = 0
        self._shared: list | None = None  # of_parts: [index, eol, separator, decoded, cache]

    @classmethod
    def of_parts(cls, head: bytes, size: int, load_full: Callable[[], bytes], shared: list,
                 envelope_from: str = "", envelope_to: str = "", auth: str = "") -> MessageView:
        """A view of a message known by its head (everything up to and including the
        empty line), its total size and a loader of all its bytes (called at most once,
        only if the body or the core Message is needed). ``shared`` is a list kept by
        the caller per message bytes (empty at first): the header index built by one
        view is reused by the next ones, which copy it before any edit."""
        view = cls.__new__(cls)  # __init__'s fields, set once (one view per hook call)
        view._model, view._raw = None, head if head.__class__ is bytes else bytes(head)
        view.envelope = {"from": envelope_from, "to": envelope_to, "auth": auth}
        view._email = view._size = None
        view._envelope_parts, view._pending = {}, []
        view._full, view._full_size, view._shared = load_full, size, shared
        if shared:
            view._index, view._eol, view._separator, view.decoded, view._cache = shared
        else:
            view._index, view._eol, view._separator, view.decoded, view._cache = None, b"\r\n", False, {}, {}
        return view

    def _all_bytes(self) -> bytes:
        """The whole message (of_parts: loaded now; header offsets stay valid, as the
        head is a prefix of it)."""
        if self._full is not None:
            self._raw, self._full = self._full(), None
        return self._raw

    @property
    def model(self) -> Message:
        """The core Message (created on first use, pending prepends applied)."""
        model = self._model
        if model is None:
            model = self._model = Message(self._all_bytes())
            for name, value, _field in self._pending:
                model.headers.prepend(name, value)
            self._pending = []
        return model

    @property
    def raw(self) -> bytes:
        return self.model.render()

    @property
    def size(self) -> int:
        if self._size is None:
            if self._model is None:
                size = self._full_size if self._full is not None else len(self._raw)
                for _name, _value, field in self._pending:
                    size += len(field.raw)
                self._size = size
            else:
                model = self._model
                self._size = model.size if not model.modified else len(model.render())
        return self._size

    def _fields(self) -> dict[str, list]:
        """Every top-level field by lower-case name, built in one pass on first use."""
        index = self._index
        if index is not None:
            return index
        index = {}
        if self._model is not None:
            for field in self._model.headers:
                index.setdefault(field.key, []).append(field)
        else:
            raw = self._raw
            spans, _body_start, self._separator = split_headers(raw, 0, len(raw))
            # split_headers only accepts printable-ASCII names: one latin-1 decode of the
            # head (offsets unchanged, and str.lower keeps every latin-1 length) gives
            # every key as a slice; the entries are the (start, colon, end) spans
            # (of_parts: the head is the fields and the empty line: decoded whole, no slice)
            end = spans[-1][2] if spans else 0
            text = (raw if len(raw) - end <= 2 else raw[:end]).decode("latin-1").lower()
            for span in spans:
                key = text[span[0]:span[1]]
                if key in index:
                    index[key].append(span)
                else:
                    index[key] = [span]
            if spans:
                end = spans[0][2]  # the first field ends with LF but not CRLF: LF-only lines
                if raw[end - 1] == 10 and (end < 2 or raw[end - 2] != 13):
                    self._eol = b"\n"  # as Headers.parse decides
            if self._shared is not None and not self._shared:  # built from the bytes only
                self._shared[:] = [index, self._eol, self._separator, self.decoded, self._cache]
        self._index = index
        return index

    def _raw_value(self, entry) -> bytes:
        """HeaderField.raw_value() of a field: a one-line value needs only a strip."""
        if entry.__class__ is not tuple:
            return entry.raw_value()
        chunk = self._raw[entry[1] + 1:entry[2]]
        stripped = chunk.strip(b" \t\r\n")
        if 10 in stripped or 13 in stripped:  # LF or CR (an int is ~10x faster than b"\n")
            return unfold_bytes(chunk)
        return stripped

    def raw_headers(self, name: str) -> list[str]:
        """Unfolded, undecoded values of every field called ``name``."""
        entries = self._fields().get(name if name.islower() else name.lower(), ())
        if len(entries) == 1:  # the usual one field (no comprehension, no name copy)
            return [self._raw_value(entries[0]).decode("utf-8", "replace").strip()]
        return [self._raw_value(entry).decode("utf-8", "replace").strip() for entry in entries]

    def header_values(self, key: str) -> list[str]:
        """Decoded values of the fields whose lower-case name is ``key`` (do not mutate)."""
        values = self.decoded.get(key)
        if values is None:
            index = self._index
            entries = (index if index is not None else self._fields()).get(key)
            if not entries:
                values = []
            elif len(entries) == 1:  # the usual case: one field, on one line (_raw_value inline)
                entry = entries[0]
                raw = (self._raw[entry[1] + 1:entry[2]].strip(b" \t\r\n") if entry.__class__ is tuple
                       else None)
                if raw is None or 10 in raw or 13 in raw:  # LF, CR: ints test ~10x faster
                    raw = self._raw_value(entry)
                text = raw.decode("utf-8", "replace")
                values = [decode_header_words(text) if "=?" in text else text]
            else:
                values = [decode_header_words(self._raw_value(entry).decode("utf-8", "replace"))
                          for entry in entries]
            self.decoded[key] = values
        return values

    def fold_one(self, key: str) -> str | None:
        """The i;ascii-casemap folded value of field ``key`` when there is exactly one such
        field (cached in ``_cache`` under ("fold", key), so an edit of ``key`` drops it
        with the addresses); None for no or several fields (not cached)."""
        values = self.decoded.get(key)
        if values is None:
            values = self.header_values(key)
        if len(values) != 1:
            return None
        value = values[0]
        if value.isascii():
            folded = value if value.islower() else value.lower()
        else:
            folded = value.translate(_ASCII_LOWER)
        self._cache[("fold", key)] = folded
        return folded

    def headers(self, name: str) -> list[str]:
        """Unfolded and RFC 2047-decoded values of every field called ``name``."""
        return list(self.header_values(name.lower()))

    def has_key(self, key: str) -> bool:
        """Whether a field with lower-case name ``key`` exists."""
        index = self._index
        return key in (index if index is not None else self._fields())

    def has_header(self, name: str) -> bool:
        return name.lower() in self._fields()

    def header_names(self) -> list[str]:
        return self.model.headers.names()

    def edit_header(self, mode: str, name: str, value: str | None) -> None:
        """Sieve++ edits: mode prepend | append | replace | delete."""
        key = name.lower()  # only this name's cached reads change
        index = self._fields()
        if self._shared is not None and self._shared and index is self._shared[0]:
            # other views keep theirs: a shallow copy is enough, as an edit replaces the
            # edited name's list and never changes a list in place
            index = self._index = dict(index)
            self.decoded, self._cache = dict(self.decoded), dict(self._cache)
        self._email, self._size = None, None
        self.decoded.pop(key, None)
        cache = self._cache
        stale = None
        for cached in cache:  # usually none: no list (and no comprehension) to build
            if cached[1] == key:
                stale = [cached] if stale is None else stale + [cached]
        if stale is not None:
            for cached in stale:
                del cache[cached]
        if mode == "prepend" and self._model is None and self._separator:
            maker = _FIELD_MAKERS.get(self._eol)
            if maker is None:  # (an empty Headers is falsy: no ``or`` here)
                maker = _FIELD_MAKERS[self._eol] = Headers([], self._eol)
            field = maker.make_field(name, value or "")  # ValueError like prepend
            self._pending.append((name, value or "", field))
            index[key] = [field, *index.get(key, ())]
            return
        headers = self.model.headers
        if mode == "delete":
            headers.delete(name)
        elif mode == "prepend":
            headers.prepend(name, value or "")
        elif mode == "replace":
            headers.replace(name, value or "")
        else:
            headers.append(name, value or "")
        fields = headers.fields(name)
        if fields:
            index[key] = fields
        else:
            index.pop(key, None)


def unfold(value: str) -> str:
    return value.replace("\r\n", "").replace("\n", "").strip()


def decode_rfc2047(value: str) -> str:
    return decode_header_words(value) if "=?" in value else value
