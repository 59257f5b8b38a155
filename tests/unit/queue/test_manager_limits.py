"""QueueManager limits: connections per domain and server-wide, throttles over a window,
no head-of-line blocking between domains. Fake engine (queue_fakes.py) counts the
deliver() calls running at once; ManualClock drives the throttle windows.
"""
from __future__ import annotations

import gevent
import gevent.event

from tests.unit.queue.queue_fakes import wait_for


def test_connections_per_domain_never_exceed_the_limit(rigs):
    rig = rigs('Max_Deliveries_Per_Connection = 1\n'
                      'Domain "two.test" { Max_Outbound_Connections = 2 }\n'
                      'Domain "three.test" { Max_Outbound_Connections = 3 }\n')
    rig.engine.gate = gevent.event.Event()
    for _ in range(5):
        rig.store(["a@two.test", "b@three.test"])
    wait_for(lambda: rig.engine.running.get("two.test") == 2
             and rig.engine.running.get("three.test") == 3, what="limits reached")
    gevent.sleep(0.05)  # give the scheduler every chance to overshoot
    assert rig.engine.running == {"two.test": 2, "three.test": 3}
    rig.engine.gate.set()
    wait_for(lambda: len(rig.spool) == 0)
    assert rig.engine.max_running == {"two.test": 2, "three.test": 3}
    assert len(rig.engine.calls) == 10  # one message per connection


def test_server_wide_limit_caps_all_domains(rigs):
    rig = rigs('Max_Deliveries_Per_Connection = 1\nServer_Max_Outbound_Connections = 3\n')
    rig.engine.gate = gevent.event.Event()
    for index in range(4):
        rig.store([f"a@d{index}.test", f"b@d{index}.test"])
    wait_for(lambda: rig.engine.total_running == 3)
    gevent.sleep(0.05)
    assert rig.engine.total_running == 3
    rig.engine.gate.set()
    wait_for(lambda: len(rig.spool) == 0)
    assert rig.engine.max_total_running == 3


def test_a_stuck_domain_does_not_block_others(rigs):
    rig = rigs('Domain "stuck.test" { Max_Outbound_Connections = 1 }\n')
    stuck_gate = gevent.event.Event()
    original = rig.engine.deliver

    def deliver(binding, domain, messages, **options):
        if domain == "stuck.test":
            stuck_gate.wait()
        return original(binding, domain, messages, **options)

    rig.engine.deliver = deliver
    stuck = [rig.store([f"u{i}@stuck.test"]).messages[0] for i in range(3)]
    fine = [rig.store([f"u{i}@fine.test"]).messages[0] for i in range(3)]
    wait_for(lambda: all(m.removed for m in fine), what="fine.test delivered")
    assert not any(m.removed for m in stuck)
    stuck_gate.set()
    wait_for(lambda: all(m.removed for m in stuck))


def test_message_throttle_holds_over_every_window(rigs):
    rig = rigs('Max_Deliveries_Per_Connection = 1\n'
                      'Domain "slow.test" { Outbound_Throttle_Messages = "3/60" }\n')
    start = rig.clock.now()
    for index in range(10):
        rig.store([f"u{index}@slow.test", f"u{index}@free.test"])
    wait_for(lambda: sum(1 for c in rig.engine.calls if c[2] == "slow.test") == 3
             and sum(1 for c in rig.engine.calls if c[2] == "free.test") == 10)
    for _ in range(36):  # 6 minutes in 10-second steps
        rig.clock.advance(10)
        gevent.sleep(0.005)
    wait_for(lambda: len(rig.spool) == 0, what="all delivered")
    free = [c for c in rig.engine.calls if c[2] == "free.test"]
    assert {round(t - start) for t, *_ in free} == {0}  # unthrottled domain: all at once
    times = sorted(t - start for t, _, d, ids in rig.engine.calls if d == "slow.test"
                   for _ in ids)
    assert len(times) == 10
    for index, first in enumerate(times):  # no 60-second window holds more than 3
        assert len([t for t in times[index:] if t < first + 60]) <= 3
    assert times[-1] <= 200  # and the throttle does not starve: ~3 per minute


def test_connection_throttle_shared_by_reference(rigs):
    # the global throttle is one bucket shared by every domain that inherits it
    rig = rigs('Outbound_Throttle_Connections = "2/100"\n')
    rig.store(["a@one.test"])
    rig.store(["b@two.test"])
    rig.store(["c@three.test"])
    wait_for(lambda: len(rig.engine.calls) == 2)
    gevent.sleep(0.02)
    assert len(rig.engine.calls) == 2
    rig.clock.advance(100)
    wait_for(lambda: len(rig.engine.calls) == 3)
