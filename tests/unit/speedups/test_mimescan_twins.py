"""The compiled twin _c_mimescan must behave exactly like the reference mimescan.py.

Hypothesis builds header blocks and multipart bodies from pieces biased toward the
bytes that matter (CR, LF, SP, HT, ':', '-', the boundary) plus raw byte soups, and
compares split_headers, unfold and find_boundaries results over random [start, end)
windows. Skipped only under ECELERITY_PURE_PYTHON=1; a missing twin is an error.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups import PURE_PYTHON
from ecelerity._speedups.mimescan import _py_find_boundaries, _py_split_headers, _py_unfold

pytestmark = pytest.mark.skipif(
    PURE_PYTHON, reason="ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used"
)

if not PURE_PYTHON:
    from ecelerity._speedups._c_mimescan import find_boundaries as c_find_boundaries
    from ecelerity._speedups._c_mimescan import split_headers as c_split_headers
    from ecelerity._speedups._c_mimescan import unfold as c_unfold

_pieces = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b"Subject: hi", b"X-A:", b"a", b"\x00",
     b"\xff", b"--", b"--b1", b"--b1--", b"b1", b"From ", b" cont", b"\r\n\r\n", b"-"]
)
soups = st.one_of(st.lists(_pieces, max_size=40).map(b"".join), st.binary(max_size=80))


@st.composite
def soup_and_window(draw):
    soup = draw(soups)
    start = draw(st.integers(0, len(soup)))
    end = draw(st.one_of(st.just(-1), st.integers(start, len(soup) + 3)))
    return soup, start, end


@settings(max_examples=400, deadline=None)
@given(sample=soup_and_window())
def test_split_headers_twins_agree(sample):
    soup, start, end = sample
    assert c_split_headers(soup, start, end) == _py_split_headers(soup, start, end)


@settings(max_examples=400, deadline=None)
@given(soup=soups)
def test_unfold_twins_agree(soup):
    assert c_unfold(soup) == _py_unfold(soup)


@settings(max_examples=400, deadline=None)
@given(sample=soup_and_window(), boundary=st.sampled_from([b"b1", b"b", b"-", b"", b"b1--"]))
def test_find_boundaries_twins_agree(sample, boundary):
    soup, start, end = sample
    assert c_find_boundaries(soup, boundary, start, end) == _py_find_boundaries(
        soup, boundary, start, end
    )
