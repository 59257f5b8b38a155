"""MIME hot paths: header-block splitting, unfolding and boundary scanning (reference).

This plain-Python module is the single source of truth for three byte scanners used
by the message model (ecelerity/core/headers.py and core/mime.py). They return
*offsets* into the buffer they are given, never copies of it, so a 10 MB body held
in an mmap is walked without being read into memory:

- ``split_headers(data, start, end)`` -> ``(fields, body_start, separator)``:
  ``fields`` is a list of ``(field_start, colon, field_end)``; ``field_end`` is past
  the field's last line ending (continuation lines included). The block ends at
  the first empty line (``separator`` True, ``body_start`` just past it), at a
  line that is neither a field (``name:``, name of printable non-space ASCII) nor
  a continuation (``separator`` False, ``body_start`` at that line: it is body,
  as Python's ``email`` treats it), or at ``end``. A continuation line before any
  field ends the block the same way. Lines end at LF (a CR before it is kept).
- ``unfold(value)``: remove each line break (CRLF, LF or lone CR) that is followed
  by a space or tab, then strip surrounding whitespace (RFC 5322 unfolding).
- ``find_boundaries(data, boundary, start, end)`` -> list of
  ``(line_start, line_end, is_close)``: delimiter lines ``--boundary`` or
  ``--boundary--`` at the start of a line, followed by optional spaces/tabs then a
  line ending or ``end``. ``line_end`` is past the line ending. Scanning stops
  after the first close delimiter.

Its compiled twin ``_c_mimescan.pyx`` must behave identically (the tests compare
them with hypothesis). Never does I/O, never imports the rest of ecelerity.
"""

from __future__ import annotations

import re

from . import compiled_twin

__all__ = ["IMPLEMENTATION", "find_boundaries", "split_headers", "unfold"]

_LF = 0x0A
_CR = 0x0D
_SP = 0x20
_HT = 0x09
_COLON = 0x3A
_FOLD = re.compile(rb"(?:\r\n|\n|\r)(?=[ \t])")
_WHITESPACE = b" \t\r\n"


# One field: a name of printable non-space ASCII but ':', the colon (group 1), the rest
# of its line and every continuation line (starting with SP or HT) after it.
_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+(:)[^\n]*(?:\n[ \t][^\n]*)*\n?")


def split_headers(data, start: int = 0, end: int = -1) -> tuple[list[tuple[int, int, int]], int, bool]:
    """One regex match per field (sre scans the bytes; ~2.5 us for a 7-field block)."""
    if end < 0 or end > len(data):
        end = len(data)
    fields: list[tuple[int, int, int]] = []
    append, match = fields.append, _FIELD.match
    pos = start
    while pos < end:
        found = match(data, pos, end)
        if found is None:
            break
        after = found.end()
        append((pos, found.start(1), after))
        pos = after
    else:
        return fields, end, False
    # pos starts a line that is no field: blank (the separator), a continuation
    # before any field, or the first body line
    first = data[pos]
    if first == _LF or (first == _CR and (pos + 1 >= end or data[pos + 1] == _LF)):
        lf = data.find(b"\n", pos, end)
        return fields, end if lf < 0 else lf + 1, True
    return fields, pos, False


def unfold(value: bytes) -> bytes:
    return _FOLD.sub(b"", value).strip(_WHITESPACE)


def find_boundaries(data, boundary: bytes, start: int = 0, end: int = -1) -> list[tuple[int, int, bool]]:
    if end < 0 or end > len(data):
        end = len(data)
    found: list[tuple[int, int, bool]] = []
    if not boundary:
        return found
    marker = b"--" + boundary
    size = len(marker)
    pos = start
    while True:
        at = data.find(marker, pos, end)
        if at < 0:
            return found
        pos = at + 1
        if at > start and data[at - 1] != _LF:
            continue
        after = at + size
        close = after + 1 < end and data[after] == 0x2D and data[after + 1] == 0x2D
        if close:
            after += 2
        while after < end and (data[after] == _SP or data[after] == _HT):
            after += 1
        if after < end:
            if data[after] == _LF:
                after += 1
            elif data[after] == _CR and (after + 1 == end or data[after + 1] == _LF):
                after = after + 2 if after + 1 < end else end
            else:
                continue
        found.append((at, after, close))
        if close:
            return found
        pos = after


_py_split_headers = split_headers
_py_unfold = unfold
_py_find_boundaries = find_boundaries
IMPLEMENTATION = "python"

_twin = compiled_twin("mimescan")
if _twin is not None:
    find_boundaries = _twin.find_boundaries  # noqa: F811  (compiled twin)
    split_headers = _twin.split_headers  # noqa: F811  (compiled twin)
    unfold = _twin.unfold  # noqa: F811  (compiled twin)
    IMPLEMENTATION = "cython"
