"""Delay DSNs: the notice schedule (queue/delay_notices.py) and the manager sending them
(generate_delay_dsn, delay_dsn_retry_interval, delay_dsn_max_retry_interval) with a
ManualClock; NOTIFY and the real DSN text through bounce/dsn.py."""
from __future__ import annotations

import email


from ecelerity.bounce.dsn import build_dsn
from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.queue.delay_notices import delay_dsn_due, last_threshold
from ecelerity.queue.manager import DELAYED
from ecelerity.queue.retry import RetryPolicy
from tests.unit.queue.queue_fakes import wait_for

CONFIG = ("generate_delay_dsn = true\ndelay_dsn_retry_interval = 100\n"
          "delay_dsn_max_retry_interval = 400\nretry_interval = 60\nmax_retry_interval = 60\n"
          "max_retries = none\nmessage_expiration = 100000\n"
          "max_outbound_connections = 1\nmax_deliveries_per_connection = 1\n")


def test_thresholds_double_then_cap():
    # I=3600, M=43200: 1 h, 3 h, 7 h, 15 h, 27 h, 39 h
    hours = [h * 3600 for h in (1, 3, 7, 15, 27, 39)]
    assert last_threshold(0, 3599, 3600, 43200) is None
    for at, following in zip(hours, hours[1:] + [51 * 3600], strict=True):
        assert last_threshold(0, at, 3600, 43200) == at
        assert last_threshold(0, following - 1, 3600, 43200) == at
    assert last_threshold(0, 10 ** 9, 3600, 0) is not None        # no cap: still ends
    assert last_threshold(0, 10 ** 6, 0, 43200) is None            # interval 0: never


def test_due_only_when_a_threshold_was_crossed_since_the_previous_failure():
    policy = RetryPolicy.from_options(retry_interval=60, max_retry_interval=60,
                                      max_retries="none", message_expiration=10 ** 5)
    def due(retries, now):
        return delay_dsn_due(created=0, retries=retries, next_attempt=now, now=now,
                             policy=policy, first=100, cap=400)
    # failures at 0, 60, 120, ...: thresholds 100, 300, 700, 1100, 1500
    assert [k for k in range(30) if due(k, 60 * k)] == [2, 5, 12, 19, 25]


def test_manager_sends_delay_dsns_on_schedule_and_never_for_the_null_sender(rigs):
    rig = rigs(CONFIG, script=lambda b, d, m: "transient" if d == "slow.test" else "delivered")
    message = rig.store(["r@slow.test"]).messages[0]
    quiet = rig.store(["q@slow.test"], mail_from="").messages[0]
    created = message.created
    start = rig.clock.now()
    delayed_after = []
    for k in range(21):
        rig.clock.set(start + 60 * k)
        # the result is fully applied (DSN included) once the message is back in delayed
        wait_for(lambda n=k + 1: all(m.retries == n and rig.manager.entry(m.id).state == DELAYED
                                     for m in (message, quiet)), what=f"failure {k + 1}")
        delayed = [mid for mid, action in rig.dsn.actions if action == "delayed"]
        if len(delayed) > len(delayed_after):
            delayed_after.append(k)
    # the clock started CLOCK_LEAD (5 s) after creation: failures at created + 5 + 60k
    offset = start - created
    expected = [k for k in range(21) if any(offset + 60 * (k - 1) < t <= offset + 60 * k
                                            for t in (100, 300, 700, 1100))]
    assert delayed_after == expected == [2, 5, 12, 19]
    assert {mid for mid, action in rig.dsn.actions} == {message.id}   # <> never gets one
    assert rig.manager.entry(message.id) is not None                    # still queued
    # each notice was queued as a message to the sender (the fake DSN goes to origin.test)
    wait_for(lambda: sum(1 for c in rig.engine.calls if c[2] == "origin.test") == 4,
             what="delay DSNs delivered")


def test_generate_delay_dsn_off_sends_none(rigs):
    rig = rigs(CONFIG.replace("generate_delay_dsn = true", "generate_delay_dsn = false"),
               script=lambda b, d, m: "transient")
    message = rig.store(["r@slow.test"]).messages[0]
    start = rig.clock.now()
    for k in range(4):
        rig.clock.set(start + 60 * k)
        wait_for(lambda n=k + 1: message.retries == n, what=f"failure {k + 1}")
    assert rig.dsn.actions == []


def test_real_delay_dsn_honours_notify(tmp_path):
    cfg = load_config_text("generate_delay_dsn = true\nhostname = mx.example\n")
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    try:
        envelope = Envelope("sender@origin.test", [Recipient("a@slow.test"),
                                                   Recipient("b@slow.test", notify="FAILURE"),
                                                   Recipient("c@slow.test", notify="DELAY,FAILURE")])
        a, b, c = spool.store(envelope, b"Subject: hello\r\n\r\nbody\r\n").messages
        body = spool.read_body(a)
        reason = "451 4.4.1 try later"
        assert build_dsn(b, None, reason=reason, cfg=cfg, body=body, action="delayed") is None
        for msg in (a, c):
            dsn_envelope, data = build_dsn(msg, None, reason=reason, cfg=cfg, body=body,
                                           action="delayed")
            assert dsn_envelope.mail_from == "" and dsn_envelope.recipients[0].address == \
                "sender@origin.test"
            parsed = email.message_from_bytes(data)
            assert parsed.get_content_type() == "multipart/report"
            status = parsed.get_payload()[1].get_payload()
            fields = {k: v for part in status for k, v in part.items()}
            assert fields["Action"] == "delayed" and fields["Status"] == "4.4.1"
            assert "Will-Retry-Until" in fields
        # the failed variant is unaffected by NOTIFY=DELAY only
        d = spool.store(Envelope("sender@origin.test", [Recipient("d@slow.test", notify="DELAY")]),
                        b"Subject: x\r\n\r\nx\r\n").messages[0]
        assert build_dsn(d, None, reason="550 5.1.1 gone", cfg=cfg, body=b"", action="failed") is None
    finally:
        spool.close()
