"""smtp/headers.py apply_edits: the prepend/append fast path equals the split-and-join path.

Any header block (folded lines, bare LF, bare CR, no final terminator, leading
continuation) and any sequence of prepends/appends must give the same bytes both ways.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.policy.vctx import HeaderEdit
from ecelerity.smtp.headers import _apply_edits_split, apply_edits

_LINES = st.lists(st.sampled_from([b"From: a", b"Subject: x", b" folded", b"\tmore", b"X-Y:",
                                   b"\xc3\xa9t\xc3\xa9: 1", b""]), max_size=8)
_ENDS = st.sampled_from([b"\r\n", b"\n", b"\r", b""])


@st.composite
def blocks(draw) -> bytes:
    return b"".join(line + draw(_ENDS) for line in draw(_LINES))


_EDITS = st.lists(st.builds(HeaderEdit, st.sampled_from(["X-A", "X-B", "Subject"]),
                            st.one_of(st.none(), st.text(max_size=5)),
                            st.sampled_from(["prepend", "append"])), max_size=5)


@settings(max_examples=300, deadline=None)
@given(blocks(), _EDITS)
def test_fast_path_matches_split_path(block, edits):
    assert apply_edits(block, edits) == _apply_edits_split(block, list(edits))


def test_prepends_come_out_last_first_and_appends_in_order():
    block = b"From: a\r\n"
    edits = [HeaderEdit("X-1", "1", "prepend"), HeaderEdit("X-2", "2", "append"),
             HeaderEdit("X-3", "3", "prepend"), HeaderEdit("X-4", "4", "append")]
    assert apply_edits(block, edits) == b"X-3: 3\r\nX-1: 1\r\nFrom: a\r\nX-2: 2\r\nX-4: 4\r\n"


def test_a_generator_of_edits_is_consumed_once():
    edits = (edit for edit in [HeaderEdit("X-1", "1", "delete"), HeaderEdit("X-2", "2", "append")])
    assert apply_edits(b"X-1: old\r\nFrom: a\r\n", edits) == b"From: a\r\nX-2: 2\r\n"
