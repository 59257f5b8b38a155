"""The reference TimerQueue (and whichever implementation is in use) against a plain model.

The model is a dict key -> (due, push order); pop_due must return exactly the keys due
at or before ``now`` sorted by (due, push order). Hypothesis drives random operation
sequences, including re-pushes and removals that exercise the lazy-deletion rebuild.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups import timerq
from ecelerity._speedups.timerq import _py_TimerQueue

IMPLEMENTATIONS = [pytest.param(_py_TimerQueue, id="reference"),
                   pytest.param(timerq.TimerQueue, id=f"in-use-{timerq.IMPLEMENTATION}")]

_keys = st.integers(min_value=0, max_value=30)
_dues = st.integers(min_value=0, max_value=50).map(float)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), _dues, _keys),
        st.tuples(st.just("remove"), _keys),
        st.tuples(st.just("pop_due"), _dues, st.integers(min_value=-1, max_value=5)),
        st.tuples(st.just("peek")),
    ),
    max_size=200,
)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@settings(max_examples=300, deadline=None)
@given(ops=operations)
def test_matches_the_model(impl, ops):
    queue = impl()
    model: dict[int, tuple[float, int]] = {}
    order = 0
    for op in ops:
        if op[0] == "push":
            _, due, key = op
            queue.push(due, key)
            model[key] = (due, order)
            order += 1
        elif op[0] == "remove":
            assert queue.remove(op[1]) == (op[1] in model)
            model.pop(op[1], None)
        elif op[0] == "pop_due":
            _, now, limit = op
            expected = sorted((v, k) for k, v in model.items() if v[0] <= now)
            if limit >= 0:
                expected = expected[:limit]
            got = queue.pop_due(now, limit)
            assert got == [k for _, k in expected]
            for key in got:
                del model[key]
        else:
            expected_top = min(((v, k) for k, v in model.items()), default=None)
            top = queue.peek()
            assert top == (None if expected_top is None else (expected_top[0][0], expected_top[1]))
        assert len(queue) == len(model)
        for key in range(0, 31, 7):
            assert (key in queue) == (key in model)
            assert queue.due_of(key) == (model[key][0] if key in model else None)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_ties_pop_in_push_order_and_repush_moves_to_the_back(impl):
    queue = impl()
    for key in ("a", "b", "c"):
        queue.push(10, key)
    queue.push(10, "a")  # rescheduled: now after b and c
    assert queue.pop_due(9.999) == []
    assert queue.pop_due(10) == ["b", "c", "a"]
    assert queue.peek() is None and len(queue) == 0


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_cancelled_entries_do_not_pile_up(impl):
    queue = impl()
    for round_number in range(50):
        for key in range(200):
            queue.push(round_number * 1000 + key, key)  # every re-push cancels the old entry
    assert len(queue) == 200
    if impl is _py_TimerQueue:  # the twin's heap is not visible from Python
        assert len(queue._heap) <= 2 * len(queue) + 65
    assert queue.pop_due(float("inf")) == list(range(200))
    assert queue.peek() is None
