"""ecelerity/queue/entry.py ``routing_domain``: the queue a message waits in. A gateway a
policy chose (``routing_gateway``, per recipient ``routing_gateway:<address>``) names
the queue, as Momentum queues such mail under the gateway; so that queue's limits and
throttles count every recipient routed there, whatever its own domain. Real config and
spool, ManualClock, queue_fakes' scripted engine (it records the domain each hand-off
was made for and how many run at once per domain).
"""
from __future__ import annotations

import gevent
import gevent.event

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.queue.admin import QueueAdmin
from ecelerity.queue.entry import routing_domain

from tests.unit.queue.queue_fakes import wait_for

BODY = b"Subject: t\r\n\r\nbody\r\n"


def stored(rig, recipients: list[str], **context: str) -> list:
    envelope = Envelope(mail_from="s@origin.test", recipients=[Recipient(r) for r in recipients],
                        mess_context=context)
    batch = rig.spool.store(envelope, BODY)
    return batch.messages


def test_the_gateway_names_the_queue_before_routing_domain_and_recipient_domain(rigs):
    rig = rigs(start=False)
    plain, = stored(rig, ["u@Real.Test"])
    routed, = stored(rig, ["u@real.test"], routing_domain="hub.test", routing_gateway=" GW.Test ")
    own, other = stored(rig, ["One@a.test", "two@b.test"],
                        **{"routing_gateway:one@a.test": "10.0.0.1:2525"})
    by_domain, = stored(rig, ["u@real.test"], routing_domain="Hub.Test")
    assert [routing_domain(m) for m in (plain, routed, own, other, by_domain)] == [
        "real.test", "gw.test", "10.0.0.1:2525", "b.test", "hub.test"]


def test_two_domains_routed_to_one_gateway_share_its_queue_and_its_connection_limit(rigs):
    rig = rigs('Max_Deliveries_Per_Connection = 1\n'
               'Domain "gw.test" { Max_Outbound_Connections = 2 }\n')
    rig.engine.gate = gevent.event.Event()
    for index in range(4):
        rig.manager.admit_messages(stored(rig, [f"u{index}@one.test", f"u{index}@two.test"],
                                          routing_gateway="gw.test"))
    wait_for(lambda: rig.engine.running.get("gw.test") == 2, what="the gateway's limit reached")
    gevent.sleep(0.05)   # every chance for one.test / two.test queues to start their own
    assert rig.engine.running == {"gw.test": 2}
    rows = QueueAdmin(rig.manager).stats()
    assert [(r.binding, r.domain, r.active, r.in_flight) for r in rows] == [
        ("default", "gw.test", 6, 2)]
    rig.engine.gate.set()
    wait_for(lambda: len(rig.spool) == 0, what="all delivered")
    assert rig.engine.max_running == {"gw.test": 2}
    assert {domain for _, _, domain, _ in rig.engine.calls} == {"gw.test"}
    assert len(rig.engine.calls) == 8


def test_a_per_recipient_gateway_moves_only_that_recipient_and_its_throttle_counts_it(rigs):
    rig = rigs('Max_Deliveries_Per_Connection = 1\n'
               'Domain "gw.test" { Outbound_Throttle_Messages = "3/60" }\n')
    for index in range(3):
        rig.manager.admit_messages(stored(rig, [f"u{index}@one.test", f"u{index}@two.test"],
                                          **{f"routing_gateway:u{index}@one.test": "gw.test",
                                             f"routing_gateway:u{index}@two.test": "gw.test"}))
    rig.manager.admit_messages(stored(rig, ["v@one.test", "v@two.test"],
                                      **{"routing_gateway:v@one.test": "gw.test"}))
    # 7 recipients routed to the gateway, 3 per minute: 3 now, the rest held
    wait_for(lambda: sum(1 for c in rig.engine.calls if c[2] == "gw.test") == 3
             and any(c[2] == "two.test" for c in rig.engine.calls), what="first window")
    gevent.sleep(0.05)
    assert sorted(c[2] for c in rig.engine.calls) == ["gw.test"] * 3 + ["two.test"]
    for _ in range(3):
        rig.clock.advance(60)
        gevent.sleep(0.01)
    wait_for(lambda: len(rig.spool) == 0, what="all delivered")
    assert sorted(c[2] for c in rig.engine.calls) == ["gw.test"] * 7 + ["two.test"]


def test_suspend_delivery_of_the_gateways_domain_holds_every_routed_recipient(rigs):
    rig = rigs('Domain "gw.test" { Suspend_Delivery = true }\n')
    rig.manager.admit_messages(stored(rig, ["a@one.test", "b@two.test"], routing_gateway="gw.test"))
    rig.manager.admit_messages(stored(rig, ["c@one.test"]))
    wait_for(lambda: len(rig.engine.calls) == 1, what="the unrouted message")
    gevent.sleep(0.05)
    assert [(c[2], len(c[3])) for c in rig.engine.calls] == [("one.test", 1)]
    assert len(rig.spool) == 2
