"""The compiled twin _c_timerq must behave exactly like the reference timerq.py.

Hypothesis runs the same random operation sequence (float due times with ties, string
and tuple keys, re-pushes, removals, limited pops) on both and compares every return
value. Skipped only under ECELERITY_PURE_PYTHON=1; otherwise a missing compiled module
is an error, never a skip.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups import PURE_PYTHON
from ecelerity._speedups.timerq import _py_TimerQueue

pytestmark = pytest.mark.skipif(
    PURE_PYTHON, reason="ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used"
)

if not PURE_PYTHON:
    from ecelerity._speedups._c_timerq import TimerQueue as _c_TimerQueue

_keys = st.one_of(st.integers(0, 40).map(str), st.tuples(st.sampled_from("ab"), st.integers(0, 5)))
_dues = st.one_of(st.integers(-5, 60).map(float), st.floats(-1e6, 1e6, allow_nan=False))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), _dues, _keys),
        st.tuples(st.just("remove"), _keys),
        st.tuples(st.just("pop_due"), _dues, st.integers(-1, 8)),
        st.tuples(st.just("peek")),
        st.tuples(st.just("due_of"), _keys),
        st.tuples(st.just("len")),
    ),
    max_size=300,
)


@settings(max_examples=400, deadline=None)
@given(ops=operations)
def test_twin_agrees_with_reference(ops):
    reference, twin = _py_TimerQueue(), _c_TimerQueue()
    for op in ops:
        name, args = op[0], op[1:]
        if name == "len":
            assert len(twin) == len(reference)
            continue
        assert getattr(twin, name)(*args) == getattr(reference, name)(*args), op
    assert sorted(map(repr, twin.keys())) == sorted(map(repr, reference.keys()))
    assert twin.pop_due(float("inf")) == reference.pop_due(float("inf"))


def test_twin_rebuilds_after_many_cancellations():
    reference, twin = _py_TimerQueue(), _c_TimerQueue()
    for round_number in range(30):
        for key in range(300):
            due = (key * 7919) % 1000 + round_number
            reference.push(due, key)
            twin.push(due, key)
        for key in range(0, 300, 3):
            assert twin.remove(key) == reference.remove(key)
    assert twin.pop_due(500.0) == reference.pop_due(500.0)
    assert twin.pop_due(float("inf")) == reference.pop_due(float("inf"))
