"""QueueAdmin: fail (with/without DSNs), flush, retry/fail one message, reroute, suspend,
resume, statistics. Real spool and config; fake engine/DSN builder from queue_fakes.py.
"""
from __future__ import annotations

import gevent
import pytest

from ecelerity.core.spool import Spool
from ecelerity.queue.admin import QueueAdmin
from ecelerity.queue.manager import ACTIVE, DELAYED

from tests.unit.queue.queue_fakes import Rig, wait_for

BINDINGS = ('Binding "b1" { Bind_Address = "127.0.0.2" }\n'
            'Binding "b2" { Bind_Address = "127.0.0.3" }\n'
            'Retry_Interval = 600\n')


@pytest.fixture
def rig(tmp_path):
    def script(binding, domain, message):
        return "transient" if domain.endswith("down.test") else "delivered"

    made = Rig(tmp_path, BINDINGS, script=script)
    yield made
    made.close()


def delayed_messages(rig, recipients, **kwargs):
    messages = rig.store(recipients, **kwargs).messages
    wait_for(lambda: all(rig.manager.entry(m.id).state == DELAYED for m in messages))
    return messages


def test_fail_domain_with_and_without_bounces(rig):
    admin = QueueAdmin(rig.manager)
    loud = delayed_messages(rig, ["a@down.test", "b@down.test"])
    assert admin.fail_domain("DOWN.test") == 2
    assert sorted(c[0] for c in rig.dsn.calls) == sorted(m.id for m in loud)
    assert all(m.removed for m in loud)
    quiet = delayed_messages(rig, ["c@down.test"])
    assert admin.fail_domain("down.test", quiet=True) == 1
    assert len(rig.dsn.calls) == 2 and quiet[0].removed
    assert admin.fail_domain("down.test") == 0


def test_flush_and_retry_one_message(rig):
    admin = QueueAdmin(rig.manager)
    first, second = delayed_messages(rig, ["a@down.test", "b@down.test"])
    calls = len(rig.engine.calls)
    assert admin.retry_message(first.id) is True
    wait_for(lambda: first.retries == 2 and rig.manager.entry(first.id).state == DELAYED,
             what="retried now, not in 600 s")   # DELAYED: the result is fully applied
    assert second.retries == 1 and len(rig.engine.calls) == calls + 1
    assert admin.retry_message("no-such-id") is False
    assert admin.flush_domain("down.test") == 2
    wait_for(lambda: first.retries == 3 and second.retries == 2)


def test_fail_one_message(rig):
    admin = QueueAdmin(rig.manager)
    first, second = delayed_messages(rig, ["a@down.test", "b@down.test"], mail_from="")
    assert admin.fail_message(first.id, quiet=True) is True
    assert first.removed and not second.removed
    assert admin.fail_message(first.id) is False


def test_reroute_moves_messages_durably(rig, tmp_path):
    admin = QueueAdmin(rig.manager)
    messages = delayed_messages(rig, ["a@down.test", "b@down.test"], binding="b1")
    assert rig.engine.calls[-1][1] == "b1"
    assert admin.reroute_queue("down.test", "b2", from_binding="b1") == 2
    assert all(rig.manager.entry(m.id).key == ("b2", "down.test") for m in messages)
    assert all(rig.manager.entry(m.id).state == DELAYED for m in messages)
    assert admin.flush_domain("down.test", binding="b2") == 2
    wait_for(lambda: len([c for c in rig.engine.calls if c[1] == "b2"]) >= 1)
    with pytest.raises(KeyError):
        admin.reroute_queue("down.test", "nope")
    # durable: a fresh spool-in sees the new binding
    rig.close()
    reopened = Spool(str(tmp_path / "spool"), fsync=False)
    try:
        reopened.load_all()
        assert {m.binding for m in reopened.messages()} == {"b2"}
    finally:
        reopened.close()


def test_suspend_and_resume_domain_and_binding(rig):
    admin = QueueAdmin(rig.manager)
    admin.suspend(domain="held.test")
    admin.suspend(binding="b2")
    held = rig.store(["a@held.test"]).messages[0]
    held_b2 = rig.store(["a@other.test"], binding="b2").messages[0]
    free = rig.store(["a@other.test"], binding="b1").messages[0]
    wait_for(lambda: free.removed)
    gevent.sleep(0.02)
    assert rig.manager.entry(held.id).state == ACTIVE and not held_b2.removed
    stats = {(s.binding, s.domain): s for s in admin.stats()}
    assert stats[("default", "held.test")].suspended and stats[("b2", "other.test")].suspended
    assert not stats[("b1", "other.test")].suspended
    admin.resume(domain="held.test")
    wait_for(lambda: held.removed)
    assert not held_b2.removed
    admin.resume(binding="b2")
    wait_for(lambda: held_b2.removed)
    with pytest.raises(ValueError):
        admin.suspend()


def test_statistics(rig):
    admin = QueueAdmin(rig.manager)
    delayed_messages(rig, ["a@down.test", "b@down.test"])
    done = rig.store(["c@up.test"]).messages[0]
    wait_for(lambda: done.removed)
    rig.clock.advance(30)
    rows = {s.domain: s for s in admin.stats()}
    down = rows["down.test"]
    assert (down.active, down.delayed, down.in_flight) == (0, 2, 0)
    assert down.last_error == "451 4.4.1 try later" and down.transient_failures == 2
    assert 30 <= down.oldest_age < 40
    up = rows["up.test"]
    assert (up.active, up.delayed, up.delivered, up.oldest_age) == (0, 0, 1, None)
    assert [s.domain for s in admin.stats(domain="up.test")] == ["up.test"]
