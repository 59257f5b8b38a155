"""The compiled twin _c_smtpline must behave exactly like the reference smtpline.py.

Hypothesis feeds random byte soups (biased toward '.', CR and LF) in random chunks
to both DataReader and both LineSplitter classes and compares every return value,
every take() and every attribute after every call. It also checks that the chunking
never changes a DataReader's result. Skipped only under ECELERITY_PURE_PYTHON=1;
otherwise a missing compiled module is an error, never a skip.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups import PURE_PYTHON
from ecelerity._speedups.smtpline import (
    LONE_POLICIES,
    LineTooLong,
    _py_DataReader,
    _py_LineSplitter,
)

pytestmark = pytest.mark.skipif(
    PURE_PYTHON, reason="ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used"
)

if not PURE_PYTHON:
    from ecelerity._speedups._c_smtpline import DataReader as _c_DataReader
    from ecelerity._speedups._c_smtpline import LineSplitter as _c_LineSplitter

READER_ATTRIBUTES = (
    "size",
    "oversized",
    "saw_lone_lf",
    "saw_lone_cr",
    "header_end",
    "long_line",
    "done",
)

_pieces = st.sampled_from(
    [
        b".",
        b"\r",
        b"\n",
        b"\r\n",
        b"\r\n.",
        b".\r\n",
        b"\r\n\r\n",
        b"a",
        b"bc",
        b"Subject: x",
        b"..",
    ]
)
soups = st.one_of(
    st.lists(_pieces, max_size=40).map(b"".join),
    st.binary(max_size=60),
)


@st.composite
def soup_and_chunks(draw):
    soup = draw(soups)
    cuts = draw(st.lists(st.integers(0, len(soup)), max_size=6))
    bounds = [0, *sorted(cuts), len(soup)]
    return soup, [soup[a:b] for a, b in itertools.pairwise(bounds)]


reader_options = st.fixed_dictionaries(
    {
        "max_size": st.sampled_from([0, 0, 1, 7, 30]),
        "lone_lf": st.sampled_from(LONE_POLICIES),
        "lone_cr": st.sampled_from(LONE_POLICIES),
        "max_line": st.sampled_from([0, 0, 1, 2, 5, 12]),
    }
)


def reader_trace(reader_class, chunks, options):
    reader = reader_class(**options)
    trace = []
    for chunk in chunks:
        offset = reader.feed(chunk)
        trace.append((offset, reader.take(), *(getattr(reader, a) for a in READER_ATTRIBUTES)))
    return trace


def splitter_trace(splitter_class, chunks, max_line, take_after):
    splitter = splitter_class(max_line)
    trace = []
    for index, chunk in enumerate(chunks):
        splitter.feed(chunk)
        if index == take_after:
            trace.append(("take_buffer", splitter.take_buffer()))
        while True:
            try:
                line = splitter.next_line()
            except LineTooLong as exc:
                trace.append(("too long", exc.length, exc.limit, splitter.pending()))
                continue
            trace.append((line, splitter.bare_lf, splitter.pending()))
            if line is None:
                break
    return trace


@settings(max_examples=300, deadline=None)
@given(sample=soup_and_chunks(), options=reader_options)
def test_data_readers_agree_on_every_call(sample, options):
    _, chunks = sample
    assert reader_trace(_c_DataReader, chunks, options) == reader_trace(
        _py_DataReader, chunks, options
    )


@settings(max_examples=300, deadline=None)
@given(sample=soup_and_chunks(), options=reader_options)
def test_chunking_does_not_change_a_data_reader_result(sample, options):
    soup, chunks = sample
    for reader_class in (_py_DataReader, _c_DataReader):
        whole = reader_trace(reader_class, [soup], options)[-1]
        trace = reader_trace(reader_class, chunks, options)
        assert b"".join(step[1] for step in trace) == whole[1]
        assert trace[-1][2:] == whole[2:]
        ends = [
            (sum(map(len, chunks[:i])) + step[0]) for i, step in enumerate(trace) if step[0] >= 0
        ]
        assert ends[:1] == ([whole[0]] if whole[0] >= 0 else [])


@settings(max_examples=300, deadline=None)
@given(
    sample=soup_and_chunks(),
    max_line=st.sampled_from([1, 2, 4, 9, 4096]),
    take_after=st.integers(-1, 3),
)
def test_line_splitters_agree_on_every_call(sample, max_line, take_after):
    _, chunks = sample
    assert splitter_trace(_c_LineSplitter, chunks, max_line, take_after) == splitter_trace(
        _py_LineSplitter, chunks, max_line, take_after
    )


_filler = st.sampled_from([b"a", b"b c", b"\r", b"."])


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(0, 200), _filler, st.booleans()), max_size=8),
    chunk=st.sampled_from([1, 3, 64, 4096]),
    max_line=st.sampled_from([0, 3, 40, 76, 120]),
)
def test_readers_agree_on_long_realistic_messages(lines, chunk, max_line):
    """Lines near max_line exercise the block scan behind long_line; dots the unstuffing."""
    wire = b"".join(
        (b".." if dot else b"") + (filler * length)[:length] + b"\r\n"
        for length, filler, dot in lines
    )
    wire += b".\r\nQUIT\r\n"
    chunks = [wire[at : at + chunk] for at in range(0, len(wire), chunk)]
    options = {"max_size": 0, "lone_lf": "reject", "lone_cr": "keep", "max_line": max_line}
    assert reader_trace(_c_DataReader, chunks, options) == reader_trace(
        _py_DataReader, chunks, options
    )
