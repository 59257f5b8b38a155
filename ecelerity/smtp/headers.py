"""The header block of a received message: find it, list names, apply policy edits.

Called by the SMTP session after DATA, on the unstuffed message bytes. The header
block is everything up to the first empty line; a message whose first line is not
a header field has no header block (everything is body). Edits touch only the
header block: every byte of the body, and every header nobody asked to change,
is kept exactly as received. Never reads configuration or does I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")


@dataclass
class SplitMessage:
    header_block: bytes  # header fields, each ending in its line terminator; no blank line
    separator: bytes  # the blank line (b"\r\n"), or b"" when there is none
    body: bytes


def split_message(data: bytes) -> SplitMessage:
    """Split at the first empty line; tolerant of a bare-LF message (kept as received)."""
    if not _FIELD_NAME.match(data):
        return SplitMessage(b"", b"", data)
    pos = 0
    length = len(data)
    while pos < length:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return SplitMessage(data, b"", b"")  # headers only, no terminator
        line = data[pos:nl + 1]
        if line in (b"\r\n", b"\n"):
            return SplitMessage(data[:pos], line, data[nl + 1:])
        if pos and line[:1] not in (b" ", b"\t") and not _FIELD_NAME.match(line):
            # not a header and not a continuation: the body starts here, no blank line
            return SplitMessage(data[:pos], b"", data[pos:])
        pos = nl + 1
    return SplitMessage(data, b"", b"")


def header_fields(header_block: bytes) -> list[bytes]:
    """Each field with its folded continuation lines, terminators kept."""
    out: list[bytes] = []
    for line in header_block.splitlines(keepends=True):
        if out and line[:1] in (b" ", b"\t"):
            out[-1] += line
        else:
            out.append(line)
    return out


def field_name(field: bytes) -> str:
    return field.split(b":", 1)[0].strip().decode("ascii", "replace").lower()


def header_names(header_block: bytes) -> set[str]:
    return {field_name(f) for f in header_fields(header_block)}


def header_values(header_block: bytes, name: str) -> list[str]:
    """Unfolded values of every field called ``name`` (case-insensitive)."""
    name = name.lower()
    values = []
    for f in header_fields(header_block):
        if field_name(f) == name:
            raw = f.split(b":", 1)[1]
            values.append(re.sub(rb"\r?\n[ \t]", b" ", raw).strip().decode("utf-8", "replace"))
    return values


def format_field(name: str, value: str) -> bytes:
    return f"{name}: {value}\r\n".encode("utf-8")


def apply_edits(header_block: bytes, edits: Iterable[object]) -> bytes:
    """Apply vctx HeaderEdits (append / prepend / replace / delete) in order.

    Only prepends and appends (the common case: policies add headers) never look
    inside the block: the new fields go around it, byte for byte what splitting and
    re-joining would give (``b"".join(header_fields(b)) == b``)."""
    edits = list(edits)
    if all(edit.mode in ("prepend", "append") for edit in edits):
        before = [format_field(e.name, e.value or "") for e in edits if e.mode == "prepend"]
        after = [format_field(e.name, e.value or "") for e in edits if e.mode == "append"]
        before.reverse()
        return b"".join(before) + header_block + b"".join(after)
    return _apply_edits_split(header_block, edits)


def _apply_edits_split(header_block: bytes, edits: list) -> bytes:
    """The general path (and the specification of the fast one): split, edit, join."""
    fields_ = header_fields(header_block)
    for edit in edits:
        name = edit.name
        mode = edit.mode
        value = edit.value
        lname = name.lower()
        if mode in ("delete", "replace"):
            fields_ = [f for f in fields_ if field_name(f) != lname]
        if mode == "delete":
            continue
        new = format_field(name, value or "")
        if mode == "prepend":
            fields_.insert(0, new)
        else:
            fields_.append(new)
    return b"".join(fields_)
