"""Lazy MIME tree over a message buffer: parts are offsets, not copies.

Built by core/message.Message.mime() on first use (policies that never look at MIME
pay nothing). A Part knows its header block, content type and parameters, charset,
transfer encoding and the byte range of its body in the shared source buffer (bytes
or an mmap of the spool segment); children of a multipart are found only when first
asked for. Mutations (headers, body, add/insert/unlink parts: core/mime_edit.py) mark the part
dirty; ``render()`` copies untouched parts verbatim and re-renders only the dirty ones.
Reading never counts as a mutation: building children (``children``, ``walk()``,
``text()``) leaves a part clean, so an unmodified tree renders byte-identical, and
a re-rendered multipart keeps the layout it was parsed with (preamble, delimiter
lines, the close delimiter or its absence, the epilogue).

Malformed input never raises: a missing boundary, a missing close delimiter, a
cut-short header block, an unknown encoding or nesting deeper than MAX_DEPTH is
recorded in ``Part.defects`` (for ec_valid_mime) and the part is kept as a leaf.
Never does I/O beyond reading the buffer it was given.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecelerity._speedups.mimescan import find_boundaries
from ecelerity.core.encodings import decode_text, decode_transfer, normalize_cte
from ecelerity.core.headers import Headers, parse_content_header
from ecelerity.core.mime_edit import PartEdits

__all__ = ["MAX_DEPTH", "Part"]

MAX_DEPTH = 50


class Part(PartEdits):
    """One MIME entity: headers, body range in ``source``, lazily built children
    (mutations and rendering: PartEdits, core/mime_edit.py)."""

    def __init__(self, source, start: int = 0, end: int = -1, *, depth: int = 0,
                 default_type: str = "text/plain", headers: Headers | None = None,
                 body_start: int | None = None, separator: bool = True) -> None:
        self.source = source
        self.start = start
        self.end = len(source) if end < 0 else end
        self.depth = depth
        self.default_type = default_type
        self.parent: Part | None = None
        self.defects: list[str] = []
        if headers is None:
            headers, body_start, separator = Headers.parse(source, start, self.end)
        self.headers = headers
        self.body_start = self.end if body_start is None else body_start
        self._fields_end = start + sum(len(field.raw) for field in headers)
        self.body_end = self.end
        if not separator and self.body_start < self.end:
            self.defects.append("header block not ended by an empty line")
        self._children: list[Part] | None = None
        self._body_override: bytes | None = None
        self._structure_changed = False
        self._header_version = 0  # headers as parsed from source
        # layout inside the parent multipart as parsed (kept for verbatim rendering)
        self._layout_owner: Part | None = None
        self._eol_before = b""
        self._delimiter = b""
        self._preamble = b""
        self._tail: bytes | None = None  # None: no parsed layout, render() writes a close delimiter

    @classmethod
    def from_bytes(cls, raw: bytes) -> Part:
        """A standalone part (headers + body) to insert into a tree; renders as ``raw`` until changed."""
        return cls(raw)

    # -- type information -------------------------------------------------------
    @property
    def content_type(self) -> str:
        value = self.headers.get("Content-Type")
        if value is None:
            return self.default_type
        main, _ = parse_content_header(value)
        if main.count("/") != 1 or not all(main.split("/")):
            return "text/plain"
        return main

    @property
    def maintype(self) -> str:
        return self.content_type.split("/")[0]

    @property
    def subtype(self) -> str:
        return self.content_type.split("/")[1]

    @property
    def params(self) -> dict[str, str]:
        value = self.headers.get("Content-Type")
        return parse_content_header(value)[1] if value is not None else {}

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")

    @property
    def cte(self) -> str:
        return normalize_cte(self.headers.get("Content-Transfer-Encoding"))

    @property
    def filename(self) -> str | None:
        value = self.headers.get("Content-Disposition")
        name = parse_content_header(value)[1].get("filename") if value else None
        return name or self.params.get("name")

    @property
    def is_multipart(self) -> bool:
        return self.maintype == "multipart" or self.content_type == "message/rfc822"

    # -- children ------------------------------------------------------------------
    @property
    def children(self) -> list[Part]:
        """The child parts (a copy of the list: mutate through the tree methods)."""
        return list(self._child_list())

    def _child_list(self) -> list[Part]:
        if self._children is None:
            self._children = []
            if self._body_override is None and self.is_multipart:
                self._parse_children()
        return self._children

    def _parse_children(self) -> None:
        if self.depth >= MAX_DEPTH:
            self.defects.append(f"MIME nesting deeper than {MAX_DEPTH} levels")
            return
        if self.content_type == "message/rfc822":
            self._adopt(Part(self.source, self.body_start, self.body_end, depth=self.depth + 1))
            return
        boundary = self.params.get("boundary")
        if not boundary:
            self.defects.append("multipart without a boundary parameter")
            return
        marks = find_boundaries(self.source, boundary.encode("utf-8", "replace"),
                                self.body_start, self.body_end)
        if not marks or marks[0][2]:
            self.defects.append(f"boundary {boundary!r} not found in multipart body")
            return
        source = self.source
        pre_end = marks[0][0] - _eol_length(source, self.body_start, marks[0][0])
        self._preamble = bytes(source[self.body_start:pre_end])
        child_type = "message/rfc822" if self.content_type == "multipart/digest" else "text/plain"
        previous_end = pre_end
        for index, (line_start, line_end, close) in enumerate(marks):
            if close:
                break
            if index + 1 < len(marks):
                following = marks[index + 1][0]
                child_end = following - _eol_length(source, line_end, following)
            else:
                child_end = self.body_end
                self.defects.append(f"close delimiter of boundary {boundary!r} missing")
            child = Part(source, line_end, child_end, depth=self.depth + 1, default_type=child_type)
            child._eol_before = bytes(source[previous_end:line_start])
            child._delimiter = bytes(source[line_start:line_end])
            child._layout_owner = self
            self._adopt(child)
            previous_end = child_end
        self._tail = bytes(source[previous_end:self.body_end])

    def _adopt(self, child: Part) -> None:
        child.parent = self
        self._child_list().append(child)

    def walk(self) -> Iterator[Part]:
        """This part and every descendant, depth first (the order of email's walk())."""
        yield self
        for child in self._child_list():
            yield from child.walk()

    def all_defects(self) -> list[str]:
        return [defect for part in self.walk() for defect in part.defects]

    # -- content ---------------------------------------------------------------------
    def raw_body(self) -> bytes:
        """The body as it will be rendered (still transfer-encoded)."""
        if self._body_override is not None:
            return self._body_override
        if self._children and self._is_dirty():
            return self._render_body()
        return bytes(self.source[self.body_start:self.body_end])

    def body(self) -> bytes:
        """Transfer-decoded body bytes (base64/quoted-printable undone)."""
        decoded, defects = decode_transfer(self.raw_body(), self.cte)
        for defect in defects:
            if defect not in self.defects:
                self.defects.append(defect)
        return decoded

    def text(self) -> str:
        """Decoded body as str (charset to Unicode); a multipart joins its text leaves."""
        if self.is_multipart and self._child_list():
            leaves = [p for p in self.walk() if p.maintype == "text" and not p._child_list()]
            return "\n".join(leaf.text() for leaf in leaves)
        return decode_text(self.body(), self.charset)

    def raw(self) -> bytes:
        return self.render()


def _eol_length(source, floor: int, at: int) -> int:
    """Length of the line ending just before offset at (not reaching below floor)."""
    if at - 2 >= floor and source[at - 2:at] == b"\r\n":
        return 2
    if at - 1 >= floor and source[at - 1:at] in (b"\n", b"\r"):
        return 1
    return 0
