"""ecelerity/log/ec_logger.py (+ bounce_logger.py): a scripted message life, logged field by field.

A real spool stores a real message; a real configuration (loader) builds the loggers.
The delivery results are plain objects with the attributes the delivery engine's
DeliveryResult carries (message_id outcome code enhanced text stage remote_ip bytes_sent
conn_id), which is the whole contract the loggers rely on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.log.bounce_logger import BounceLogger, classify
from ecelerity.log.ec_logger import EcLogger
from ecelerity.log.jsonlog import JsonLog
from ecelerity.log.records import split_at_record


@dataclass
class Result:
    message_id: str
    outcome: str
    code: int | None
    enhanced: str
    text: str
    stage: int
    remote_ip: str
    bytes_sent: int
    conn_id: str


CONFIG = """
Spoolbase = "{base}/var/spool"
Binding_Group "group-a" {{ Binding "binding-a" {{ }} }}
ec_logger "ec_logger" {{
  mainlog = "{base}/log/mainlog.ec"
  rejectlog = "{base}/log/rejectlog.ec"
  acctlog = "{base}/log/acctlog.ec"
  heartbeat = 0
  {extra}
}}
bounce_logger "bounce_logger" {{ bouncelog = "{base}/log/bouncelog.ec" }}
"""


def make_config(tmp_path, extra=""):
    return load_config_text(CONFIG.format(base=tmp_path, extra=extra))


def stored_messages(tmp_path, recipients):
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    envelope = Envelope("info@postalengine.com", [Recipient(address) for address in recipients],
                        peer_ip="10.0.1.1", protocol="esmtp", conn_id="00/00-04532-A3456B54",
                        received_at=1064868656.0)
    batch = spool.store(envelope, b"Subject: hi\r\n\r\nbody\r\n")
    return batch.messages


def lines(path):
    return path.read_text().splitlines()


def test_scripted_life_produces_documented_fields(tmp_path):
    cfg = make_config(tmp_path)
    logger = EcLogger.from_config(cfg, use_threadpool=False)
    bounces = BounceLogger.from_config(cfg, use_threadpool=False)
    json_log = JsonLog(str(tmp_path / "log/events.json"), use_threadpool=False)
    delivered, deferred = stored_messages(tmp_path, ["bob@example.fict", "John.Doe@Example.Fict"])
    reception_at = delivered.created

    logger.log_reception(delivered, when=reception_at)
    # the second recipient is routed through binding-a (the queue would set this)
    deferred.binding = "binding-a"
    ok = Result(delivered.id, "delivered", 250, "2.0.0", "ok", 9, "10.0.0.1", 266,
                "00/00-00001-00000001")
    later = Result(deferred.id, "transient", 421, "", "no adequate servers", 15, "10.0.0.1", 0,
                   "00/00-00001-00000002")
    failed = Result(deferred.id, "permanent", 552, "", "No such account", 5, "10.0.0.1", 31,
                    "00/00-00001-00000003")
    logger.log_delivery(delivered, ok, when=reception_at + 0.393)
    logger.log_transient(deferred, later, when=reception_at + 18.53)
    deferred.retries = 1
    logger.log_permanent(deferred, failed, when=reception_at + 20)
    bounces.log_bounce(deferred, failed, when=reception_at + 20)
    logger.log_rejection("10.79.25.142:42601", "10.79.25.142:25", "18/00-07149-D7E16B94",
                         "awaiting mailfrom", 550, "scriptlet", {"pathway": "default"},
                         {"mailfrom_string": "MAIL FROM:<>"}, "relaying denied", when=1236672125)
    logger.log_auth("*:2025", "10.80.116.126:37164", "ec_user", True, when=1160172232)
    logger.close()
    bounces.close()
    json_log.close()

    mainlog = [split_at_record(line) for line in lines(tmp_path / "log/mainlog.ec")]
    stamp = str(int(reception_at))
    assert mainlog[0] == [stamp, delivered.id, delivered.batch_id, "00/00-04532-A3456B54", "R",
                          "bob", "example.fict", "info", "postalengine.com", "10.0.1.1",
                          str(delivered.size), "esmtp", "default", "default"]
    assert mainlog[1] == [str(int(reception_at + 0.393)), delivered.id, delivered.batch_id,
                          "00/00-00001-00000001", "D", "example.fict", str(delivered.size),
                          "default", "default", "0", "0.393", "10.0.0.1"]
    assert mainlog[2] == [str(int(reception_at + 18.53)), deferred.id, deferred.batch_id,
                          "00/00-00001-00000002", "T", "example.fict", "0", "group-a",
                          "binding-a", "15", "0", "18.53", "10.0.0.1", "421 no adequate servers"]
    assert mainlog[3][4] == "P" and mainlog[3][10] == "1" and mainlog[3][11] == "20"
    assert mainlog[3][13] == "552 No such account" and mainlog[3][6] == "31"
    assert len(mainlog) == 4

    bounce = split_at_record(lines(tmp_path / "log/bouncelog.ec")[0])
    assert bounce == [str(int(reception_at + 20)), deferred.id, deferred.batch_id,
                      "00/00-00001-00000003", "B", "John.Doe", "Example.Fict", "info",
                      "postalengine.com", "group-a", "binding-a", "5",
                      str(classify(552, "", "No such account")), str(deferred.size), "10.0.0.1",
                      "552 No such account"]
    assert bounce[12] == "10"  # "No such account" = Invalid Recipient

    assert lines(tmp_path / "log/rejectlog.ec") == [
        '1236672125: R="10.79.25.142:42601" L="10.79.25.142:25" C="18/00-07149-D7E16B94" '
        'PATH="default" PATH_GRP="default" P="awaiting mailfrom" E=550 M=scriptlet '
        'CTXCONN=[pathway=default] CTXMESS=[mailfrom_string="MAIL FROM:<>"] relaying denied']
    assert lines(tmp_path / "log/acctlog.ec") == [
        "1160172232@N@*:2025@10.80.116.126:37164@ec_user@1"]


def test_switches_turn_record_types_off(tmp_path):
    cfg = make_config(tmp_path, "log_receptions = false\n  log_rejections = off")
    logger = EcLogger.from_config(cfg, use_threadpool=False)
    message, = stored_messages(tmp_path, ["a@example.com"])
    logger.log_reception(message, when=10)
    logger.log_rejection("1.2.3.4:5", "1.2.3.4:25", "c", "rcpt", 550, "relay", {}, {}, "no",
                         when=10)
    logger.log_delivery(message, Result(message.id, "delivered", 250, "", "ok", 9, "10.0.0.9",
                                        10, "c2"), when=11)
    logger.close()
    assert [line.split("@")[4] for line in lines(tmp_path / "log/mainlog.ec")] == ["D"]
    assert not (tmp_path / "log/rejectlog.ec").exists()


def test_heartbeat_lines_and_hires_timestamps(tmp_path):
    logger = EcLogger({"mainlog": str(tmp_path / "m.ec"), "rejectlog": str(tmp_path / "r.ec"),
                       "acctlog": str(tmp_path / "a.ec")}, hires=True, use_threadpool=False)
    message, = stored_messages(tmp_path, ["a@example.com"])
    logger.heartbeat(when=1251470342.5)
    logger.log_reception(message, when=1251470342.000001)
    logger.close()
    assert lines(tmp_path / "m.ec")[0] == "1251470342500000@@@@M"
    assert lines(tmp_path / "m.ec")[1].startswith("1251470342000001@")
    assert lines(tmp_path / "r.ec") == ["1251470342500000: Marker 1"]


def test_heartbeat_timer_writes_markers(tmp_path):
    import gevent

    logger = EcLogger({"mainlog": str(tmp_path / "m.ec"), "heartbeat": 1},
                      log_dir=str(tmp_path), flush_interval=0.05)
    logger.settings["heartbeat"] = 0.1  # sub-second for the test (the option is whole seconds)
    logger.start()
    gevent.sleep(0.45)
    logger.close()
    beats = [line for line in lines(tmp_path / "m.ec") if line.endswith("@@@@M")]
    assert 2 <= len(beats) <= 5
    assert (tmp_path / "rejectlog.ec").exists()  # unset paths land in log_dir


def test_no_stanza_means_no_logger(tmp_path):
    cfg = load_config_text(f'Spoolbase = "{tmp_path}/spool"\n')
    assert EcLogger.from_config(cfg) is None
    assert BounceLogger.from_config(cfg) is None


def test_unset_paths_go_next_to_the_spool(tmp_path):
    cfg = load_config_text(f'Spoolbase = "{tmp_path}/var/spool"\nec_logger "ec_logger" {{ }}\n')
    logger = EcLogger.from_config(cfg, use_threadpool=False)
    assert logger.writers["mainlog"].path == str(tmp_path / "var/log/mainlog.ec")
    logger.close()


def test_bouncelog_switches_and_transient_records(tmp_path):
    bounces = BounceLogger({"bouncelog": str(tmp_path / "b.ec"), "log_outofband_bounces": False},
                           use_threadpool=False)
    message, = stored_messages(tmp_path, ["x@example.com"])
    result = Result(message.id, "transient", 451, "4.4.1", "[internal] No valid hosts", 0, "", 0,
                    "")
    bounces.log_transient(message, result, when=5)
    bounces.log_bounce(message, result, out_of_band=True, when=6)  # switched off
    bounces.heartbeat(when=7)
    bounces.close()
    got = lines(tmp_path / "b.ec")
    assert split_at_record(got[0])[4] == "T"
    assert split_at_record(got[0])[12] == str(classify(451, "4.4.1", "[internal] No valid hosts"))
    assert got[1] == "7@@@@M1" and len(got) == 2


def test_json_log_of_the_same_events_carries_the_same_facts(tmp_path):
    json_log = JsonLog(str(tmp_path / "events.json"), use_threadpool=False)
    logger = EcLogger({"mainlog": str(tmp_path / "m.ec")}, log_dir=str(tmp_path),
                      use_threadpool=False)
    logger.record = _tee(logger.record, json_log.record)
    message, = stored_messages(tmp_path, ["bob@example.fict"])
    logger.log_reception(message, when=1064868656)
    logger.close()
    json_log.close()
    fields = split_at_record(lines(tmp_path / "m.ec")[0])
    event = json.loads(lines(tmp_path / "events.json")[0])
    assert event["event"] == "reception" and event["type"] == fields[4] == "R"
    assert [event[name] for name in ("message_id", "batch_id", "conn_id")] == fields[1:4]
    assert [event["rcpt_local"], event["rcpt_domain"], event["from_local"],
            event["from_domain"], event["source_ip"], str(event["size"]), event["protocol"],
            event["binding_group"], event["binding"]] == fields[5:]


def _tee(first, second):
    def both(facts):
        first(facts)
        second(facts)
    return both
