"""The reference split_headers (one regex match per field) against the line-by-line spec.

mimescan.split_headers used to walk each line in Python; it now lets one regex match
a whole field. The line-by-line walk below is that former reference, kept here as
the executable specification: hypothesis compares both on byte soups biased toward
CR/LF/SP/HT/':' over random [start, end) windows, in both modes (the compiled twin
is compared with the reference by test_mimescan_twins.py).
"""

from __future__ import annotations

import mmap

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups.mimescan import _py_split_headers


def spec_split_headers(data, start=0, end=-1):
    """The former reference: one line at a time, the field name scanned byte by byte."""
    if end < 0 or end > len(data):
        end = len(data)
    fields, pos, field_start, colon = [], start, -1, -1
    while pos < end:
        first = data[pos]
        lf = data.find(b"\n", pos, end)
        line_end = end if lf < 0 else lf + 1
        if first == 0x0A or (first == 0x0D and (pos + 1 >= end or data[pos + 1] == 0x0A)):
            if field_start >= 0:
                fields.append((field_start, colon, pos))
            return fields, line_end, True
        if first in (0x20, 0x09):
            if field_start < 0:
                return fields, pos, False
        else:
            found, at = -1, pos
            while at < line_end:
                byte = data[at]
                if byte == 0x3A:
                    found = at if at > pos else -1
                    break
                if byte <= 0x20 or byte > 0x7E:
                    break
                at += 1
            if found < 0:
                if field_start >= 0:
                    fields.append((field_start, colon, pos))
                return fields, pos, False
            if field_start >= 0:
                fields.append((field_start, colon, pos))
            field_start, colon = pos, found
        pos = line_end
    if field_start >= 0:
        fields.append((field_start, colon, end))
    return fields, end, False


_pieces = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b"Subject: hi", b"X-A:", b"a", b"\x00",
     b"\x7f", b"~", b"\xff", b"From ", b" cont", b"\tcont", b"\r\n\r\n", b"-"]
)
soups = st.one_of(st.lists(_pieces, max_size=40).map(b"".join), st.binary(max_size=80))


@st.composite
def soup_and_window(draw):
    soup = draw(soups)
    start = draw(st.integers(0, len(soup) + 2))
    end = draw(st.one_of(st.just(-1), st.integers(0, len(soup) + 3)))
    return soup, start, end


@settings(max_examples=600, deadline=None)
@given(sample=soup_and_window())
def test_split_headers_matches_line_by_line_spec(sample):
    soup, start, end = sample
    assert _py_split_headers(soup, start, end) == spec_split_headers(soup, start, end)


def test_split_headers_on_mmap_and_bytearray(tmp_path):
    raw = (b"From: a@b.example\r\nSubject: folded\r\n\tsecond line\r\nX-Empty:\r\n"
           b"\r\nbody: not a header\r\n")
    expected = ([(0, 4, 19), (19, 26, 50), (50, 57, 60)], 62, True)
    path = tmp_path / "msg"
    path.write_bytes(raw)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert _py_split_headers(mapped, 0, len(raw)) == expected
    assert _py_split_headers(bytearray(raw)) == expected
    assert _py_split_headers(raw) == expected == spec_split_headers(raw)
    # a body line that looks like no field ends the block without a separator
    assert _py_split_headers(b"A: 1\nnot a field\nB: 2\n") == ([(0, 1, 5)], 5, False)
