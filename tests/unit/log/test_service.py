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
from ecelerity.log.engine_tap import split_response as _split_response
from ecelerity.log.service import LogHub
from ecelerity.queue.manager import QueueManager
from ecelerity.stats import for_app


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

    def deliver(self, binding, domain, messages, on_results=None):
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


def test_a_generated_dsn_gets_an_internal_r_line_before_its_delivery(tmp_path):
    spool, batch = _stored(tmp_path, ["bad@x.test"])
    cfg = load_config_text(f'spoolbase = "{tmp_path}/spool"\nretry_interval = 60\n')
    engine = ScriptedEngine({"bad@x.test": (550, "5.1.1", "no such user"),
                             "alice@c.test": (250, "2.0.0", "ok")})
    manager = QueueManager(cfg, spool, engine)
    hub = LogHub(config_getter=lambda: cfg)
    sink = Collect()
    hub.add(sink)
    hub.attach_queue(manager)
    manager.start()
    try:
        manager.admit(batch)  # received over SMTP: its R lines are log_reception's job
        with gevent.Timeout(5):
            while len(sink.events) < 3:
                gevent.sleep(0.01)
    finally:
        manager.stop(timeout=1)
    # the queue stores the DSN before it reports the failure: R, P, then the DSN's D
    assert [e["type"] for e in sink.events] == ["R", "P", "D"]
    received, _failed, delivered = sink.events
    assert (received["protocol"], received["sender"], received["rcpt"]) == (
        "internal", "", "alice@c.test")
    assert received["source_ip"] == "unknown" and received["batch_id"] != batch.batch_id
    assert delivered["message_id"] == received["message_id"]
    hub.detach_queue()
    assert "admit" not in vars(manager) and manager.engine is engine


def _app_with_loaded_module(tmp_path, conf_text):
    """A real App (no services started) with its first module stanza loaded for real."""
    from ecelerity.daemon.app import App
    from ecelerity.daemon.module_service import ModuleContext
    from ecelerity.log.paniclog import PanicLog
    from ecelerity.modules import module_spec

    cfg = load_config_text(conf_text)
    app = App(cfg, config_path=str(tmp_path / "ecelerity.conf"), services=[],
              paniclog=PanicLog(str(tmp_path / "paniclog.ec"), clock=lambda: 7))
    instance = cfg.modules()[0]
    ctx = ModuleContext(app, instance)
    module_spec(instance.module).load(ctx)
    return app, ctx


def test_a_full_disk_is_counted_in_the_daemon_stats_and_mail_flow_goes_on(tmp_path):
    full = tmp_path / "mainlog.ec"
    full.symlink_to("/dev/full")  # every write: ENOSPC
    app, ctx = _app_with_loaded_module(
        tmp_path, f'ec_logger "ec_logger" {{ mainlog = "{full}" heartbeat = 0 '
                  f'rejectlog = "{tmp_path}/rejectlog.ec" acctlog = "{tmp_path}/acctlog.ec" }}\n')
    _spool, batch = _stored(tmp_path, ["a@x.test", "b@x.test"])
    for _ in range(3):
        app.loggers.reception(batch, "IN-1")  # never raises
        app.loggers.flush()
    snapshot = for_app(app).snapshot()
    assert snapshot["log_write_errors"] == 3 and snapshot["log_disk_full"] == 3
    app.paniclog.flush()
    panic = (tmp_path / "paniclog.ec").read_text().splitlines()
    assert len(panic) == 1 and "No space left on device" in panic[0]  # reported once
    ctx.unload()


def test_loading_a_logger_points_the_paniclog_at_the_config_debug_flags(tmp_path):
    app, ctx = _app_with_loaded_module(
        tmp_path, f'json_logger "events" {{ logfile = "{tmp_path}/e.json" }}\n'
                  "Debug_Flags { ERROR = ( SMTP ) }\n")
    app.log("config", "filtered: START is not in ERROR")
    app.log("smtp", "written")
    app.paniclog.flush()
    assert (tmp_path / "paniclog.ec").read_text() == "7:smtp: written\n"
    ctx.unload()
