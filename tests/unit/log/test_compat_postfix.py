"""ecelerity/log/compat_postfix.py: queue ids, syslog stamps, the lines pflogsumm parses
(pflogsumm itself reads a daemon's output in tests/scenarios/test_logs_compat_analysers.py)."""
from __future__ import annotations

import re

from ecelerity.log.compat_postfix import PostfixLogger, queue_id, syslog_stamp


def _facts(event, rcpt, **more):
    base = {"event": event, "ts": 1700000000.0, "batch_id": "10/00-23639-037120B6",
            "message_id": f"id-{rcpt}", "rcpt": rcpt, "sender": "a@c.test", "size": 10,
            "nrcpt": 2, "source_ip": "127.0.0.1", "remote_ip": "192.0.2.1", "elapsed": 1.5}
    base.update(more)
    return base


def test_queue_id_and_stamp():
    assert queue_id("10/00-23639-037120B6") == "100023639037120B6"
    assert re.match(r"^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d$", syslog_stamp(1700000000.0))


def test_lines_receive_once_per_batch_and_remove_after_the_last_recipient(tmp_path):
    logger = PostfixLogger(str(tmp_path / "maillog"), hostname="mta.test")
    got = []
    for facts in (_facts("reception", "x@a"), _facts("reception", "y@a"),
                  _facts("delivery", "x@a", enhanced="2.0.0", response="250 2.0.0 ok"),
                  _facts("transient_failure", "y@a", enhanced="4.2.0", response="451 (later)"),
                  _facts("permanent_failure", "y@a", code=550, response="550 no")):
        got.extend(logger.lines(facts))
    body = [line.split(": ", 1)[1] for line in got]
    assert all(re.match(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d mta\.test postfix/\w+\[\d+\]: ", line)
               for line in got)
    qid = "100023639037120B6"
    assert body == [
        f"{qid}: client=unknown[127.0.0.1]",
        f"{qid}: from=<a@c.test>, size=10, nrcpt=2 (queue active)",
        f"{qid}: to=<x@a>, relay=192.0.2.1[192.0.2.1]:25, delay=1.5, delays=0/0/0/1.5, "
        "dsn=2.0.0, status=sent (250 2.0.0 ok)",
        f"{qid}: to=<y@a>, relay=192.0.2.1[192.0.2.1]:25, delay=1.5, delays=0/0/0/1.5, "
        "dsn=4.2.0, status=deferred (451 [later])",
        f"{qid}: to=<y@a>, relay=192.0.2.1[192.0.2.1]:25, delay=1.5, delays=0/0/0/1.5, "
        "dsn=5.0.0, status=bounced (550 no)",
        f"{qid}: removed",
    ]
    [reject] = logger.lines({"event": "rejection", "ts": 1700000000.0, "peer": "10.0.0.1:999",
                             "phase": "awaiting mailfrom", "code": 550, "text": "go away",
                             "ctx_mess": {}, "ctx_conn": {"ehlo_domain": "h"}})
    assert reject.endswith("NOQUEUE: reject: MAIL from unknown[10.0.0.1]: 550 <>: go away; "
                           "from=<> to=<> proto=ESMTP helo=<h>")
