"""QueueAdmin.rebind (queue/admin.py): re-running binding assignment on queued mail,
durably, keeping each message's queue state. Real spool and config, ManualClock."""
from __future__ import annotations

import random

import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.queue.admin import QueueAdmin
from ecelerity.queue.manager import ACTIVE, DELAYED

from tests.unit.queue.queue_fakes import Rig

CONFIG = ('Binding_Group "pool" { Binding "p1" { } Binding "p2" { } }\n'
          'Binding "solo" { }\n')


@pytest.fixture
def rig(tmp_path):
    made = Rig(tmp_path, CONFIG)
    made.manager.chooser.rng = random.Random(5)
    made.manager.suspended_domains.add("dest.test")   # keep the mail queued
    yield made
    made.close()


def store_group(rig, recipients, *, delay=0.0):
    env = Envelope(mail_from="s@origin.test", recipients=[Recipient(r) for r in recipients],
                   binding_group="pool")
    batch = rig.spool.store(env, b"Subject: t\r\n\r\nbody\r\n")
    if delay:
        for message in batch.messages:
            rig.spool.update(message, retries=1, next_attempt=rig.clock.now() + delay)
    rig.manager.admit(batch)
    return batch.messages


def bindings_of(rig, messages):
    return [rig.manager.entry(m.id).key[0] for m in messages]


def test_rebind_moves_off_a_suspended_member_and_keeps_state_and_due_time(rig, tmp_path):
    admin = QueueAdmin(rig.manager)
    active = store_group(rig, [f"a{i}@dest.test" for i in range(6)])
    delayed = store_group(rig, [f"d{i}@dest.test" for i in range(4)], delay=900)
    due = {m.id: admin.due_at(rig.manager.entry(m.id)) for m in delayed}
    assert set(bindings_of(rig, active + delayed)) == {"p1", "p2"}
    on_p1 = [m for m in active + delayed if rig.manager.entry(m.id).key[0] == "p1"]
    admin.suspend(binding="p1")
    assert admin.rebind(binding="p1") == len(on_p1)
    assert set(bindings_of(rig, active + delayed)) == {"p2"}
    assert all(rig.manager.entry(m.id).state == ACTIVE for m in active)
    assert all(rig.manager.entry(m.id).state == DELAYED for m in delayed)
    assert {m.id: admin.due_at(rig.manager.entry(m.id)) for m in delayed} == due
    assert {(s.binding, s.active, s.delayed) for s in admin.stats(domain="dest.test")} >= {
        ("p2", 6, 4)}
    # durable: a restart reads the new binding back from the spool
    rig.close()
    reopened = Spool(str(tmp_path / "spool"), fsync=False)
    try:
        assert reopened.load_all().count == 10
        assert {m.id for m in reopened.messages() if m.binding == "p2"} == {m.id for m in on_p1}
    finally:
        reopened.close()


def test_rebind_to_a_named_binding_and_back_by_assignment(rig):
    admin = QueueAdmin(rig.manager)
    messages = store_group(rig, ["a@dest.test", "b@dest.test"])
    assert admin.rebind(domain="dest.test", to="solo") == 2
    assert bindings_of(rig, messages) == ["solo", "solo"]
    assert [m.binding for m in messages] == ["solo", "solo"]
    assert admin.rebind(domain="dest.test") == 2          # "solo" is not in the group
    assert set(bindings_of(rig, messages)) <= {"p1", "p2"}
    assert admin.rebind(domain="dest.test") == 0          # nothing changed: nothing moved
    with pytest.raises(KeyError):
        admin.rebind(domain="dest.test", to="nosuch")


def test_rebind_leaves_in_flight_messages_alone(rig):
    admin = QueueAdmin(rig.manager)
    [message] = store_group(rig, ["a@dest.test"])
    entry = rig.manager.entry(message.id)
    rig.manager.detach(entry)
    entry.state = "in_flight"
    assert admin.rebind(domain="dest.test", to="solo") == 0
    assert entry.key[0] in {"p1", "p2"} and message.binding is None
