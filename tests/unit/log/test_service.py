"""ecelerity/log/service.py: the LogHub fan-out, its QueueManager observer and engine tap.

Real spool messages, the delivery engine's real DeliveryResult, a real QueueManager (with
an engine that answers from a script, as a remote server would) and real loggers writing
real files; nothing is mocked.
"""
from __future__ import annotations

import gevent

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.delivery.engine import DeliveryResult
from ecelerity.log.ec_logger import EcLogger
from ecelerity.log.records import split_at_record
from ecelerity.log.service import LogHub, _split_response
from ecelerity.queue.manager import QueueManager


class Collect:
    """A sink that keeps what it is given (the hub's contract is ``record(facts)``)."""

    def __init__(self):
        self.events = []

    def record(self, facts):
        self.events.append(facts)


class Broken:
    def record(self, facts):
        raise RuntimeError("disk on fire")


class ScriptedEngine:
    """Answers each recipient as the script says, like a remote MX would."""

    def __init__(self, replies):
        self.replies = replies

    def deliver(self, binding, domain, messages):
        results = []
        for message in messages:
            code, enhanced, text = self.replies[message.recipient.address]
            outcome = "delivered" if code < 400 else "transient" if code < 500 else "permanent"
            results.append(DeliveryResult(message.id, outcome, code, enhanced, text, 4,
                                          "192.0.2.7", 0, "CONN-1"))
        return results


def _stored(tmp_path, rcpts):
    spool = Spool(str(tmp_path / "spool"))
    envelope = Envelope(mail_from="alice@c.test", recipients=[Recipient(r) for r in rcpts],
                        peer_ip="127.0.0.9", protocol="esmtp", conn_id="IN-1", helo="h.test")
    return spool, spool.store(envelope, [b"Subject: x\r\n\r\nhi\r\n"])


def test_split_response():
    assert _split_response("550 5.1.1 no such user") == (550, "5.1.1", "no such user")
    assert _split_response("451 try later") == (451, "", "try later")
    assert _split_response("garbage") == (None, "", "garbage")


def test_reception_fans_out_one_event_per_recipient_and_survives_a_broken_sink(tmp_path):
    _spool, batch = _stored(tmp_path, ["a@x.test", "b@y.test"])
    said = []
    hub = LogHub(report=lambda module, text: said.append(text))
    first, second = Collect(), Collect()
    for sink in (first, Broken(), second):
        hub.add(sink)
    hub.reception(batch, "IN-1")
    hub.reception(batch, "IN-1")
    assert [e["rcpt"] for e in first.events] == ["a@x.test", "b@y.test"] * 2
    assert first.events == second.events
    assert {e["nrcpt"] for e in first.events} == {2} and first.events[0]["helo"] == "h.test"
    assert len(said) == 1 and "disk on fire" in said[0]  # reported once, not per event


def test_queue_outcomes_become_d_t_p_with_engine_details_and_retry_counts(tmp_path):
    spool, batch = _stored(tmp_path, ["ok@x.test", "soft@x.test", "bad@x.test"])
    cfg = load_config_text(f'spoolbase = "{tmp_path}/spool"\nretry_interval = 60\n'
                           "generate_bounces = false\n")
    engine = ScriptedEngine({"ok@x.test": (250, "2.0.0", "ok"),
                             "soft@x.test": (451, "4.2.0", "later"),
                             "bad@x.test": (550, "5.1.1", "no such user")})
    manager = QueueManager(cfg, spool, engine)
    hub = LogHub(config_getter=lambda: cfg)
    sink = Collect()
    hub.add(sink)
    hub.attach_queue(manager)
    manager.start()
    try:
        manager.admit(batch)
        deadline = gevent.Timeout(5)
        with deadline:
            while len(sink.events) < 3:
                gevent.sleep(0.01)
    finally:
        manager.stop(timeout=1)
    by_rcpt = {e["rcpt"]: e for e in sink.events}
    assert {r: e["type"] for r, e in by_rcpt.items()} == {"ok@x.test": "D", "soft@x.test": "T",
                                                           "bad@x.test": "P"}
    for event in sink.events:
        assert (event["remote_ip"], event["stage"], event["conn_id"]) == ("192.0.2.7", 4, "CONN-1")
        assert event["retries"] == 0  # the first attempt, although the queue counted it
    assert by_rcpt["bad@x.test"]["response"] == "550 5.1.1 no such user"
    hub.detach_queue()
    assert hub.observe not in manager.observers and manager.engine is engine


def test_an_expired_message_logs_p_with_the_queue_reason(tmp_path):
    _spool, batch = _stored(tmp_path, ["late@x.test"])
    logger = EcLogger({"mainlog": str(tmp_path / "mainlog.ec")}, use_threadpool=False)
    hub = LogHub()
    hub.add(logger)
    hub.observe("failed", batch.messages[0],
                "554 5.4.7 [internal] exceeded max time without delivery")
    logger.close()
    [line] = (tmp_path / "mainlog.ec").read_text().splitlines()
    fields = split_at_record(line)
    assert fields[4] == "P" and len(fields) == 14
    assert fields[9:12] == ["0", "0", fields[11]] and fields[12] == ""
    assert fields[13] == "554 5.4.7 [internal] exceeded max time without delivery"
