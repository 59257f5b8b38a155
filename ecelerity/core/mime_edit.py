"""Editing and rendering a MIME tree (core/mime.py): the PartEdits half of Part.

Who calls it: nobody directly -- core/mime.py's Part inherits PartEdits, and the Lua
and Sieve bindings call these methods on Parts (``set_text``, ``add_last_child``,
``unlink``, ``render`` ...). A mutation only marks the part (or its parent) dirty;
``render()`` copies untouched parts verbatim from the source buffer and re-renders
only dirty ones, keeping the layout a multipart was parsed with. Never parses (Part
does, lazily), never does I/O, never changes the source buffer.
"""

from __future__ import annotations

from typing import Any

from ecelerity.core.encodings import encode_text_body


class PartEdits:
    """Mutations and rendering; the attributes and readers used here are Part's."""

    source: Any
    start: int
    end: int
    body_start: int
    body_end: int
    parent: Any
    headers: Any
    params: dict[str, str]
    _children: list | None
    _body_override: bytes | None
    _structure_changed: bool
    _header_version: int
    _fields_end: int
    _preamble: bytes
    _tail: bytes | None

    # -- mutations -------------------------------------------------------------------
    def set_raw_body(self, data: bytes) -> None:
        """Replace the (transfer-encoded) body as is; the children, if any, are dropped."""
        for child in self._child_list():
            child.parent = None
        self._children = []
        self._body_override = bytes(data)
        self._structure_changed = True

    def set_text(self, text: str) -> None:
        """Replace the body by text: UTF-8, quoted-printable when not plain 7-bit ASCII."""
        raw, cte = encode_text_body(text, self.headers.eol)
        subtype = self.subtype if self.maintype == "text" else "plain"
        self.headers.replace("Content-Type", f'text/{subtype}; charset="utf-8"')
        self.headers.replace("Content-Transfer-Encoding", cte)
        self.set_raw_body(raw)

    def add_first_child(self, child: Any) -> None:
        self._insert_child(0, child)

    def add_last_child(self, child: Any) -> None:
        self._insert_child(len(self._child_list()), child)

    def insert_before(self, sibling: Any) -> None:
        """Put this part into sibling's parent, just before sibling."""
        parent = _parent_of(sibling)
        self.unlink()
        parent._insert_child(parent._child_list().index(sibling), self)

    def insert_after(self, sibling: Any) -> None:
        parent = _parent_of(sibling)
        self.unlink()
        parent._insert_child(parent._child_list().index(sibling) + 1, self)

    def unlink(self) -> None:
        """Remove this part (and its children) from its tree."""
        if self.parent is not None:
            siblings = self.parent._child_list()
            siblings.remove(self)
            self.parent._structure_changed = True
            self.parent = None

    def _insert_child(self, index: int, child: Any) -> None:
        if self.maintype != "multipart":
            raise ValueError(f"cannot add a child to a {self.content_type} part")
        if not self.params.get("boundary"):
            raise ValueError("cannot add a child to a multipart without a boundary")
        child.unlink()
        child.parent = self
        self._child_list().insert(index, child)
        self._structure_changed = True

    # -- rendering ---------------------------------------------------------------------
    def _is_dirty(self) -> bool:
        if self._structure_changed or self.headers.version != self._header_version:
            return True
        return any(child._is_dirty() for child in self._children or ())

    def render(self) -> bytes:
        """The part as bytes: verbatim when untouched, re-rendered where changed."""
        if not self._is_dirty():
            return bytes(self.source[self.start:self.end])
        if self.headers.version == self._header_version:
            return bytes(self.source[self.start:self.body_start]) + self.raw_body()
        separator = bytes(self.source[self._fields_end:self.body_start]) or self.headers.eol
        return self.headers.render() + separator + self.raw_body()

    def _render_body(self) -> bytes:
        if self.content_type == "message/rfc822":
            return b"".join(child.render() for child in self._child_list())
        eol = self.headers.eol
        boundary = (self.params.get("boundary") or "").encode("utf-8", "replace")
        pieces = [self._preamble]
        for index, child in enumerate(self._child_list()):
            own = child._layout_owner is self
            before = child._eol_before if own else b""
            if not before and (index or self._preamble):
                before = eol
            pieces += [before, child._delimiter if own else b"--" + boundary + eol, child.render()]
        if self._tail is None:  # built, not parsed: close it
            pieces.append(eol + b"--" + boundary + b"--" + eol)
        else:  # parsed: the input's own ending, even a missing close delimiter
            pieces.append(self._tail)
        return b"".join(pieces)


def _parent_of(sibling: Any) -> Any:
    if sibling.parent is None:
        raise ValueError("the reference part is not in a tree")
    return sibling.parent
