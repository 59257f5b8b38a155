"""QueueManager: results, retry schedule, expiry in every queue state, DSNs, restart.

Real spool (tmp_path), real configuration, ManualClock; the delivery engine and DSN
builder are the in-test fakes of queue_fakes.py (their real modules are being written
in parallel).
"""
from __future__ import annotations

import time

import gevent.event
import pytest

from ecelerity.core.spool import Spool
from ecelerity.queue.admin import QueueAdmin
from ecelerity.queue.manager import ACTIVE, DELAYED, IN_FLIGHT, QueueManager
from ecelerity.queue.retry import MAX_RETRIES_REASON, MAX_TIME_REASON, NOT_ATTEMPTED_REASON

from tests.unit.queue.queue_fakes import CLOCK_LEAD, FakeEngine, Rig, wait_for

MAX_RETRIES = " ".join(map(str, MAX_RETRIES_REASON))
MAX_TIME = " ".join(map(str, MAX_TIME_REASON))


def test_delivered_message_leaves_the_spool(rigs):
    rig = rigs()
    batch = rig.store(["a@one.test", "b@two.test"])
    wait_for(lambda: len(rig.spool) == 0, what="both delivered")
    assert sorted((b, d) for _, b, d, _ in rig.engine.calls) == [
        ("default", "one.test"), ("default", "two.test")]
    assert sorted(rig.engine.delivered_ids()) == sorted(m.id for m in batch.messages)
    assert [o for o, _, _ in rig.outcomes] == ["delivered", "delivered"]


def test_a_broken_observer_does_not_undo_a_delivery(rigs):
    """An observer that raises (a logger, a Lua callout queue) is logged; the message is
    still removed and the observers after it still hear of it."""
    rig = rigs()

    def broken(outcome, message, text):
        raise RuntimeError("observer bug")

    rig.manager.observers.insert(0, broken)
    rig.store(["a@one.test"])
    wait_for(lambda: len(rig.spool) == 0, what="delivered and removed")
    wait_for(lambda: rig.outcomes, what="the next observer told")
    assert [o for o, _, _ in rig.outcomes] == ["delivered"]
    assert any("observer" in line and "observer bug" in line for line in rig.log_lines), rig.log_lines


def test_delivered_messages_leave_the_spool_per_transaction_not_per_hand_off(rigs):
    """A crash between the remote 250 and the removal record duplicates a message; the
    manager removes each transaction's delivered messages before the next one starts."""
    rig = rigs()
    seen_in_spool: list[int] = []
    original = rig.engine.deliver

    def two_transactions(binding, domain, messages, on_results=None):
        first = original(binding, domain, messages[:1], on_results=on_results)
        seen_in_spool.append(len(rig.spool))  # the first is already gone, durably
        return first + original(binding, domain, messages[1:], on_results=on_results)

    rig.engine.deliver = two_transactions
    rig.store(["a@same.test", "b@same.test"])
    wait_for(lambda: len(rig.spool) == 0, what="both delivered")
    assert seen_in_spool == [1]
    assert [o for o, _, _ in rig.outcomes] == ["delivered", "delivered"]


def test_documented_worked_example_through_the_manager(rigs):
    rig = rigs('Retry_Interval = 1200\nMax_Retry_Interval = 1200\nMax_Retries = 5\n',
               script=lambda b, d, m: "delivered" if d == "origin.test" else "transient")
    start = rig.clock.now()
    message = rig.store(["rcpt@slow.test"]).messages[0]
    def attempts_so_far():
        return [c for c in rig.engine.calls if c[2] == "slow.test"]

    for step in range(6):
        wait_for(lambda n=step + 1: len(attempts_so_far()) == n, what=f"attempt {step + 1}")
        if step < 5:
            wait_for(lambda: rig.manager.entry(message.id).state == DELAYED)
            assert message.retries == step + 1
            assert message.next_attempt == pytest.approx(start + 1200 * (step + 1))
            assert message.last_error == "451 4.4.1 try later"
            rig.clock.advance(1199)
            gevent.sleep(0.01)
            assert len(attempts_so_far()) == step + 1, "no attempt before the retry is due"
            rig.clock.advance(1)
    wait_for(lambda: rig.outcome_of(message.id)[-1:] == [("failed", MAX_RETRIES)])
    attempts = [round(t - start) for t, _, d, _ in rig.engine.calls if d == "slow.test"]
    assert attempts == [0, 1200, 2400, 3600, 4800, 6000]
    assert rig.dsn.calls == [(message.id, "transient", MAX_RETRIES)]
    # the DSN was stored, admitted and delivered to the sender's domain
    wait_for(lambda: len(rig.spool) == 0, what="DSN delivered")
    assert rig.engine.calls[-1][2] == "origin.test"


def test_permanent_failure_bounces_except_to_the_null_sender(rigs):
    rig = rigs(script=lambda b, d, m: "delivered" if d == "origin.test" else "permanent")
    bounced = rig.store(["x@bad.test"]).messages[0]
    silent = rig.store(["y@bad.test"], mail_from="").messages[0]
    wait_for(lambda: len(rig.spool) == 0)
    assert sorted(rig.dsn.calls) == sorted([(bounced.id, "permanent", "550 5.1.1 no such user"),
                                            (silent.id, "permanent", "550 5.1.1 no such user")])
    dsn_deliveries = [c for c in rig.engine.calls if c[2] == "origin.test"]
    assert len(dsn_deliveries) == 1  # only the non-null sender got a bounce
    assert rig.manager.queue_for("default", "bad.test").permanent_failures == 2


def test_never_retry_fails_at_the_first_transient(rigs):
    rig = rigs('Domain "nr.test" { Never_Retry = true }\n', script=lambda b, d, m: "transient")
    message = rig.store(["a@nr.test"], mail_from="").messages[0]
    wait_for(lambda: rig.outcome_of(message.id) == [("failed", MAX_RETRIES)])
    assert len(rig.engine.calls) == 1 and len(rig.spool) == 0


def test_expiry_fires_in_every_queue_state(rigs):
    rig = rigs('Message_Expiration = 1000\nRetry_Interval = 5000\nMax_Retries = none\n'
               'Domain "held.test" { Max_Outbound_Connections = 0 }\n',
               script=lambda b, d, m: "transient")
    QueueAdmin(rig.manager).suspend(domain="suspended.test")
    delayed = rig.store(["b@delayed.test"], mail_from="").messages[0]
    wait_for(lambda: rig.manager.entry(delayed.id).state == DELAYED, what="delayed")
    rig.engine.gate = gevent.event.Event()  # deliveries from now on block
    in_flight = rig.store(["a@flight.test"], mail_from="").messages[0]
    wait_for(lambda: rig.manager.entry(in_flight.id).state == IN_FLIGHT, what="in flight")
    active = rig.store(["c@held.test"], mail_from="").messages[0]       # no connection allowed
    suspended = rig.store(["d@suspended.test"], mail_from="").messages[0]
    gevent.sleep(0.02)
    assert rig.manager.entry(active.id).state == ACTIVE
    assert rig.manager.entry(suspended.id).state == ACTIVE
    # stored within the first second after the clock was made: expiry is in [995, 996)
    rig.clock.advance(1000 - CLOCK_LEAD - 1)
    gevent.sleep(0.02)
    assert not [o for o in rig.outcomes if o[0] == "failed"], "nothing expired yet"
    assert len(rig.spool) == 4
    rig.clock.advance(2)
    for message in (delayed, active, suspended):
        wait_for(lambda m=message: rig.outcome_of(m.id)[-1:] == [("failed", MAX_TIME)],
                 what=f"expiry of {message.recipient.address}")
    assert rig.manager.entry(in_flight.id) is not None, "in flight: its result decides"
    rig.engine.gate.set()  # the delivery comes back transient after expiry: it fails
    wait_for(lambda: rig.outcome_of(in_flight.id)[-1:] == [("failed", MAX_TIME)])
    wait_for(lambda: len(rig.spool) == 0)
    assert len(rig.engine.calls) == 2  # delayed once, in-flight once; held/suspended never


def test_never_attempt_expired_messages(rigs, tmp_path):
    late = time.time() + 2 * 86400  # a restart two days later: everything has expired
    strict = rigs('Never_Attempt_Expired_Messages = true\n', clock_start=late, start=False)
    lenient = rigs('', clock_start=late, script=lambda b, d, m: "transient", start=False)
    for rig in (strict, lenient):
        rig.manager.start()
        rig.store(["a@gone.test"], mail_from="")
    wait_for(lambda: len(strict.spool) == 0)
    assert strict.engine.calls == []
    assert [o[2] for o in strict.outcomes] == [" ".join(map(str, NOT_ATTEMPTED_REASON))]
    # lenient: one last attempt, then failed as expired (no retry)
    wait_for(lambda: len(lenient.spool) == 0)
    assert len(lenient.engine.calls) == 1
    assert [o[0] for o in lenient.outcomes] == ["failed"] and lenient.outcomes[0][2] == MAX_TIME


def test_engine_exception_is_a_transient_failure(rigs):
    rig = rigs()

    def explode(binding, domain, messages, **options):
        raise OSError("network is down")

    rig.engine.deliver = explode
    message = rig.store(["a@x.test"]).messages[0]
    wait_for(lambda: message.retries == 1)
    assert message.last_error.startswith("451 4.3.0")
    assert any("network is down" in line for line in rig.log_lines)


def test_restart_requeues_with_retry_state(tmp_path):
    spool_dir = str(tmp_path / "spool")
    first = Rig(tmp_path, start=False)  # its spool lives in tmp_path/spool
    first.manager.engine = None  # no engine: everything is held, nothing sent before the restart
    first.manager.start()
    now_batch = first.store(["n@now.test"])
    later = first.store(["l@later.test"]).messages[0]
    first.spool.update(later, retries=3, next_attempt=first.clock.now() + 500, last_error="451 x")
    first.close()

    spool = Spool(spool_dir, fsync=False)
    report = spool.load_all()
    assert report.count == 2
    engine = FakeEngine(first.clock, lambda b, d, m: "delivered")
    manager = QueueManager(first.config, spool, engine, clock=first.clock, dsn_builder=None)
    manager.admit_messages(spool.messages())
    manager.start()
    try:
        wait_for(lambda: len(engine.calls) == 1)
        assert engine.calls[0][3] == [now_batch.messages[0].id]
        reloaded = spool.get(later.id)
        assert manager.entry(later.id).state == DELAYED and reloaded.retries == 3
        first.clock.advance(499)
        gevent.sleep(0.02)
        assert len(engine.calls) == 1
        first.clock.advance(1)
        wait_for(lambda: len(spool) == 0)
        assert engine.calls[1][3] == [later.id]
    finally:
        manager.stop(1.0)
        spool.close()


def test_real_dsn_builder_bounce_is_spooled_and_sent(rigs):
    """With the real bounce/dsn.py (the manager's default builder), not the fake."""
    import email

    from ecelerity.queue.manager import _default_dsn_builder

    rig = rigs(script=lambda b, d, m: "delivered" if d == "origin.test" else "permanent",
               start=False)
    rig.manager.dsn_builder = _default_dsn_builder()
    assert rig.manager.dsn_builder is not None
    bodies = []
    deliver = rig.engine.deliver

    def capture(binding, domain, messages, **options):
        bodies.extend((domain, m.envelope, rig.spool.read_body(m)) for m in messages)
        return deliver(binding, domain, messages, **options)

    rig.engine.deliver = capture
    rig.manager.start()
    rig.store(["x@bad.test"])
    wait_for(lambda: len(rig.spool) == 0 and len(bodies) == 2)
    domain, envelope, body = bodies[1]
    assert (domain, envelope.mail_from) == ("origin.test", "")
    assert [r.address for r in envelope.recipients] == ["sender@origin.test"]
    report = email.message_from_bytes(body)
    assert report.get_content_type() == "multipart/report"
    assert "550 5.1.1 no such user" in body.decode("utf-8", "replace")


def test_a_spool_write_failure_does_not_strand_the_message(rigs):
    from ecelerity.core.spool import SpoolError

    rig = rigs("Retry_Interval = 60\n", script=lambda b, d, m: "transient")
    real_update = rig.spool.update
    failures = []

    def failing_update(message, **changes):
        if not failures:
            failures.append(message.id)
            raise SpoolError("spool: disk full (simulated)")
        return real_update(message, **changes)

    rig.spool.update = failing_update
    message = rig.store(["a@x.test"], mail_from="").messages[0]
    wait_for(lambda: rig.manager.entry(message.id).state == DELAYED)
    assert failures == [message.id] and any("disk full" in line for line in rig.log_lines)
    rig.clock.advance(60)
    wait_for(lambda: message.retries == 1, what="retried and recorded the second time")
