"""active.py and delayed.py: FIFO with O(1) removal, due-time order, against plain models."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.queue.active import ActiveQueue
from ecelerity.queue.delayed import DelayedQueue

_ids = st.integers(0, 15).map(lambda n: f"m{n}")


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.one_of(
    st.tuples(st.just("append"), _ids, st.booleans()),
    st.tuples(st.just("remove"), _ids),
    st.tuples(st.just("take"), st.integers(0, 4))), max_size=150))
def test_active_queue_matches_a_list(ops):
    queue, model = ActiveQueue(), []
    for op in ops:
        if op[0] == "append":
            _, message_id, front = op
            if message_id in model:
                model.remove(message_id)
            model.insert(0, message_id) if front else model.append(message_id)
            queue.append(message_id, front=front)
        elif op[0] == "remove":
            assert queue.remove(op[1]) == (op[1] in model)
            if op[1] in model:
                model.remove(op[1])
        else:
            expected, model = model[:op[1]], model[op[1]:]
            assert queue.take(op[1]) == expected
        assert queue.ids() == model and len(queue) == len(model)


def test_delayed_queue_orders_by_due_time():
    queue = DelayedQueue()
    queue.add("late", 300)
    queue.add("early", 100)
    queue.add("mid", 200)
    assert queue.next_due() == 100 and queue.due_of("mid") == 200
    assert queue.remove("mid") and not queue.remove("mid")
    assert queue.pop_due(150) == ["early"]
    assert queue.pop_due(1000) == ["late"] and queue.next_due() is None and len(queue) == 0
