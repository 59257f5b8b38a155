"""ecelerity/log/compat_sendmail.py: queue ids, delays and the lines Sendmail analysers parse
(logwatch's sendmail filter and sma read a daemon's output in
tests/scenarios/test_logs_compat_analysers.py)."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.msgid import format_id as encode
from ecelerity.log.compat_sendmail import SendmailLogger, sendmail_delay, sendmail_qid

QID_SHAPE = re.compile(r"^\w{7,9}\d{5,7}$")  # logwatch's $QueueIDFormat


def _facts(event, rcpt, **more):
    base = {"event": event, "ts": 1700000000.0, "batch_id": "10/00-23639-037120B6",
            "message_id": f"id-{rcpt}", "rcpt": rcpt, "sender": "a@c.test", "size": 10,
            "nrcpt": 2, "source_ip": "127.0.0.1", "helo": "client.test",
            "remote_ip": "192.0.2.1", "elapsed": 3725.5, "protocol": "esmtp", "retries": 0}
    base.update(more)
    return base


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 99999), st.integers(0, 2**16 - 1),
       st.integers(0, 2**32 - 1), st.integers(0, 99999), st.integers(0, 2**16 - 1))
def test_qid_is_one_to_one_and_has_the_sendmail_shape(slot, pid, counter, slot2, pid2, counter2):
    first, second = encode(slot, pid, counter), encode(slot2, pid2, counter2)
    assert QID_SHAPE.match(sendmail_qid(first))
    assert (sendmail_qid(first) == sendmail_qid(second)) == ((slot, pid, counter) ==
                                                             (slot2, pid2, counter2))


def test_qid_of_a_non_id_and_delays():
    assert sendmail_qid("not an id") == "NOQUEUE"
    assert sendmail_delay(0) == "00:00:00"
    assert sendmail_delay(3725.9) == "01:02:05"
    assert sendmail_delay(2 * 86400 + 61) == "2+00:01:01"
    assert sendmail_delay(None) == "00:00:00"


def test_lines_from_once_per_batch_then_one_to_per_attempt(tmp_path):
    logger = SendmailLogger(str(tmp_path / "mail.log"), hostname="mta.example.test")
    got = []
    for facts in (_facts("reception", "x@a"), _facts("reception", "y@a"),
                  _facts("delivery", "x@a", code=250, enhanced="2.0.0",
                         response="250 2.0.0 ok"),
                  _facts("transient_failure", "y@a", code=451, enhanced="4.2.0",
                         response="451 4.2.0 later", retries=1),
                  _facts("permanent_failure", "y@a", code=550, response="550 no")):
        got.extend(logger.lines(facts))
    assert all(re.match(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d mta sm-mta\[\d+\]: ", line)
               for line in got)
    body = [line.split(": ", 1)[1] for line in got]
    qid = sendmail_qid("10/00-23639-037120B6")
    relay = "relay=[192.0.2.1] [192.0.2.1]"
    assert body == [
        f"{qid}: from=<a@c.test>, size=10, class=0, nrcpts=2, "
        "msgid=<10.00.23639.037120B6@mta>, proto=ESMTP, daemon=MTA, "
        "relay=client.test [127.0.0.1]",
        f"{qid}: to=<x@a>, delay=01:02:05, xdelay=00:00:00, mailer=esmtp, pri=60010, "
        f"{relay}, dsn=2.0.0, stat=Sent (250 2.0.0 ok)",
        f"{qid}: to=<y@a>, delay=01:02:05, xdelay=00:00:00, mailer=esmtp, pri=150010, "
        f"{relay}, dsn=4.2.0, stat=Deferred: 451 4.2.0 later",
        f"{qid}: to=<y@a>, delay=01:02:05, xdelay=00:00:00, mailer=esmtp, pri=60010, "
        f"{relay}, dsn=5.0.0, stat=550 no",
    ]


def test_rejection_lines_follow_the_phase():
    logger = SendmailLogger("/nonexistent/never-written.log")
    mess = {"mailfrom_string": "MAIL FROM:<m@c.test>", "rcptto_string": "RCPT TO:<v@e.test>"}
    base = {"event": "rejection", "ts": 1700000000.0, "peer": "10.0.0.1:999", "code": 550,
            "enhanced": "5.7.1", "text": "relaying denied", "ctx_mess": mess,
            "ctx_conn": {"ehlo_domain": "h.test"}}
    [rcpt] = logger.lines({**base, "phase": "awaiting rcptto"})
    assert rcpt.endswith("NOQUEUE: ruleset=check_rcpt, arg1=<v@e.test>, relay=[10.0.0.1], "
                         "reject=550 5.7.1 <v@e.test>... Relaying denied")
    [mail] = logger.lines({**base, "phase": "awaiting mailfrom", "enhanced": "",
                           "text": "go away"})
    assert mail.endswith("NOQUEUE: ruleset=check_mail, arg1=<m@c.test>, relay=[10.0.0.1], "
                         "reject=550 <m@c.test>... Go away")
    assert logger.lines({"event": "heartbeat", "ts": 1.0}) == []
