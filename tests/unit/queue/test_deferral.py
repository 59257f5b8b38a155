"""Domain-level deferral (queue/deferral.py) through the QueueManager with a ManualClock:
mx_failures_to_delay and connect_timeout_to_delay sweep a dead domain's active queue
into the delayed queue, so it stops burning connections; a reachable reply resets it."""
from __future__ import annotations

import pytest

from ecelerity.queue import deferral
from ecelerity.queue.admin import QueueAdmin
from ecelerity.queue.domain_queue import DomainQueue
from ecelerity.queue.manager import DELAYED
from tests.unit.queue.queue_fakes import FakeResult, wait_for

ONE_AT_A_TIME = "max_outbound_connections = 1\nmax_deliveries_per_connection = 1\n"


def dead_calls(rig):
    return [call for call in rig.engine.calls if call[2] == "dead.test"]


def test_mx_failures_to_delay_sweeps_the_active_queue_then_probes_once(rigs):
    state = {"up": False}
    rig = rigs(ONE_AT_A_TIME + "retry_interval = 300\nmax_retry_interval = 300\n"
               "mx_failures_to_delay = 3\nconnect_timeout_to_delay = 0\n",
               script=lambda b, d, m: "delivered" if state["up"] else "unreachable")
    rig.store([f"u{i}@dead.test" for i in range(10)])
    queue = rig.manager.queue_for("default", "dead.test")
    wait_for(lambda: len(queue.delayed) == 10 and queue.in_flight == 0, what="swept", timeout=15)
    assert len(dead_calls(rig)) == 3          # not 10: the domain stopped burning connections
    assert len(queue.active) == 0 and queue.deferrals == 1 and queue.unreachable_streak == 3
    assert any("dead.test via default unreachable" in line for line in rig.log_lines)
    swept = [m for m in rig.manager._entries.values() if m.message.retries == 0]
    assert len(swept) == 7 and all(entry.state == DELAYED for entry in swept)  # no retry spent
    # a newcomer while deferred is not attempted either
    rig.store(["late@dead.test"])
    wait_for(lambda: len(queue.delayed) == 11, what="newcomer swept")
    assert len(dead_calls(rig)) == 3
    # at the end of the deferral one probe; the streak is still long: deferred again
    rig.clock.advance(300)
    wait_for(lambda: len(dead_calls(rig)) == 4 and queue.in_flight == 0
             and len(queue.delayed) == 11, what="probe and re-deferral", timeout=15)
    assert queue.deferrals == 2
    # the domain comes back: the next probe succeeds and everything drains
    state["up"] = True
    rig.clock.advance(300)
    wait_for(lambda: len(rig.spool) == 0, what="drained", timeout=15)
    assert queue.depth == 0 and queue.unreachable_streak == 0 and queue.unreachable_since is None


def test_connect_timeout_to_delay_counts_time_since_the_first_failure(rigs):
    rig = rigs(ONE_AT_A_TIME + "retry_interval = 60\nmax_retry_interval = 60\n"
               "mx_failures_to_delay = 0\nconnect_timeout_to_delay = 100\n",
               script=lambda b, d, m: "unreachable")
    start = rig.clock.now()
    rig.store(["a@dead.test"])
    queue = rig.manager.queue_for("default", "dead.test")
    for attempt, at in enumerate((0, 60, 120), start=1):
        rig.clock.set(start + at)
        wait_for(lambda n=attempt: len(dead_calls(rig)) == n and queue.in_flight == 0
                 and len(queue.delayed) == 1, what=f"attempt {attempt}")
        expect_deferred = at >= 100
        assert (queue.deferred_until > rig.clock.now()) is expect_deferred, at
    assert queue.deferred_until == start + 120 + 60
    rig.store(["b@dead.test"])
    wait_for(lambda: len(queue.delayed) == 2, what="b swept")
    assert len(dead_calls(rig)) == 3


def test_replies_from_the_domain_never_defer_it(rigs):
    rig = rigs(ONE_AT_A_TIME + "mx_failures_to_delay = 1\nconnect_timeout_to_delay = 1\n",
               script=lambda b, d, m: "transient")   # 451 to RCPT: the host answers
    rig.store([f"u{i}@busy.test" for i in range(4)])
    queue = rig.manager.queue_for("default", "busy.test")
    wait_for(lambda: len(queue.delayed) == 4 and queue.in_flight == 0, what="all tried")
    assert len(rig.engine.calls) == 4 and queue.deferrals == 0 and queue.unreachable_streak == 0


def test_flush_lifts_the_deferral(rigs):
    rig = rigs(ONE_AT_A_TIME + "retry_interval = 3000\nmx_failures_to_delay = 1\n",
               script=lambda b, d, m: "unreachable")
    rig.store(["a@dead.test", "b@dead.test"])
    queue = rig.manager.queue_for("default", "dead.test")
    wait_for(lambda: len(queue.delayed) == 2 and queue.in_flight == 0, what="deferred")
    assert len(dead_calls(rig)) == 1
    assert QueueAdmin(rig.manager).flush_domain("dead.test") == 2
    wait_for(lambda: len(dead_calls(rig)) >= 2, what="flushed attempt")


@pytest.mark.parametrize("stage,outcome,counts", [
    (0, "transient", True), (12, "transient", True), (17, "transient", True),
    (4, "transient", False), (9, "delivered", False), (0, "permanent", False)])
def test_what_counts_as_unreachable(stage, outcome, counts):
    result = FakeResult("m", outcome, 421, "4.4.0", "x", stage)
    assert deferral.unreachable([result, result]) is counts
    assert deferral.unreachable([result, None]) is False
    assert deferral.unreachable([]) is False


def test_note_handoff_thresholds_and_disabled_rules():
    failure = FakeResult("m", "transient", 421, "4.4.0", "refused", 0)
    queue = DomainQueue("default", "dead.test")
    assert not deferral.note_handoff(queue, [failure], now=10, mx_failures_to_delay=0,
                                     connect_timeout_to_delay=0, retry_interval=60)
    assert not deferral.note_handoff(queue, [failure], now=5000, mx_failures_to_delay=0,
                                     connect_timeout_to_delay=0, retry_interval=60)
    assert queue.unreachable_streak == 2 and queue.unreachable_since == 10
    assert deferral.note_handoff(queue, [failure], now=5010, mx_failures_to_delay=3,
                                 connect_timeout_to_delay=0, retry_interval=60)
    assert queue.deferred_until == 5070 and deferral.is_deferred(queue, 5069)
    assert not deferral.is_deferred(queue, 5070)
