"""ecelerity/log/jsonlog.py: one JSON object per line, stable names, every event type."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_records import SpooledMessage
from ecelerity.log import facts as event_facts
from ecelerity import modules
from ecelerity.log.jsonlog import EVENTS, JSON_LOGGER_MODULE, JsonLog, json_line


class Result:
    message_id, outcome, code, enhanced, text = "m", "permanent", 550, "5.1.1", "user unknown"
    stage, remote_ip, bytes_sent, conn_id = 4, "192.0.2.7", 12, "00/00-00001-00000009"


def message() -> SpooledMessage:
    envelope = Envelope("sender@example.org", [Recipient("rcpt@example.com")], peer_ip="192.0.2.1",
                        conn_id="00/00-00001-00000001", mess_context={"campaign": "spring"})
    return SpooledMessage(id="10/00-00001-00000001", batch_id="00/00-00001-00000001",
                          recipient=envelope.recipients[0], domain="example.com",
                          envelope=envelope, created=1000.0, size=321)


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_event_type_is_one_parsable_line_with_stable_names(tmp_path):
    log = JsonLog(str(tmp_path / "events.json"), use_threadpool=False)
    msg = message()
    log.record(event_facts.reception_facts(msg, now=1000.5))
    for kind in ("D", "T", "P", "B"):
        log.record(event_facts.attempt_facts(msg, Result(), kind, now=1002.25))
    log.record(event_facts.rejection_facts(now=1003, peer="192.0.2.9:4000", local="127.0.0.1:25",
                                           conn_id="c", phase="rcpt", code=550, module="relay",
                                           ctx_conn={}, ctx_mess={}, text="relaying denied"))
    log.record(event_facts.acct_facts(now=1004, kind="Z", endpoint="/run/c.sock", peer="",
                                      user="admin", result=1, command="summary", role="users"))
    log.heartbeat(1005)
    log.close()
    events = read(tmp_path / "events.json")
    assert [e["event"] for e in events] == ["reception", "delivery", "transient_failure",
                                            "permanent_failure", "bounce", "rejection", "authz",
                                            "heartbeat"]
    reception, delivery = events[0], events[1]
    assert reception["ts"] == 1000.5 and reception["time"] == "1970-01-01T00:16:40.500000Z"
    assert reception["rcpt"] == "rcpt@example.com" and reception["size"] == 321
    assert reception["ctx_mess"] == {"campaign": "spring"}
    assert delivery["elapsed"] == 2.25 and delivery["response"] == "550 5.1.1 user unknown"
    assert delivery["remote_ip"] == "192.0.2.7" and delivery["conn_id"] == "00/00-00001-00000009"
    assert delivery["code"] == 550 and delivery["enhanced"] == "5.1.1" and delivery["stage"] == 4
    assert events[5]["peer"] == "192.0.2.9:4000" and events[6]["role"] == "users"


def test_event_filter_and_unknown_event_names(tmp_path):
    log = JsonLog(str(tmp_path / "e.json"), events=["bounce"], use_threadpool=False)
    msg = message()
    log.record(event_facts.reception_facts(msg, now=1))
    log.record(event_facts.attempt_facts(msg, Result(), "B", now=2))
    log.close()
    assert [e["event"] for e in read(tmp_path / "e.json")] == ["bounce"]
    with pytest.raises(ValueError, match="unknown event"):
        JsonLog(str(tmp_path / "x.json"), events=["deliveries"])
    assert "delivery" in EVENTS


def test_from_config_reads_json_logger_stanzas(tmp_path, monkeypatch):
    monkeypatch.setitem(modules._REGISTERED, "json_logger", JSON_LOGGER_MODULE)
    cfg = load_config_text(f'Spoolbase = "{tmp_path}/var/spool"\n'
                           f'json_logger "all" {{ }}\n'
                           f'json_logger "b" {{ logfile = "{tmp_path}/b.json" events = ("bounce") }}\n')
    logs = JsonLog.from_config(cfg)
    assert [log.writer.path for log in logs] == [str(tmp_path / "var/log/events.json"),
                                                 str(tmp_path / "b.json")]
    assert logs[1].events == {"bounce"}
    assert (logs[0].heartbeat_interval, logs[1].heartbeat_interval) == (60, 60)


def test_timed_heartbeat_events_and_heartbeat_zero(tmp_path, monkeypatch):
    import gevent

    monkeypatch.setitem(modules._REGISTERED, "json_logger", JSON_LOGGER_MODULE)
    cfg = load_config_text(f'json_logger "one" {{ logfile = "{tmp_path}/h.json" heartbeat = 1 }}\n'
                           f'json_logger "off" {{ logfile = "{tmp_path}/o.json" heartbeat = 0 }}\n')
    one, off = JsonLog.from_config(cfg, use_threadpool=False)
    assert one.heartbeat_interval == 1
    fast = JsonLog(str(tmp_path / "h.json"), heartbeat=0.05, use_threadpool=False)
    for log in (fast, off):
        log.start()
    gevent.sleep(0.3)
    for log in (fast, off):
        log.close()
    beats = read(tmp_path / "h.json")
    assert len(beats) >= 3 and {e["event"] for e in beats} == {"heartbeat"}
    assert [e["ts"] for e in beats] == sorted(e["ts"] for e in beats)
    assert all(e["time"].endswith("Z") for e in beats)
    assert not (tmp_path / "o.json").exists() or read(tmp_path / "o.json") == []


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60), local=st.text(max_size=20))
def test_any_text_stays_on_one_line_and_round_trips(text, local):
    facts = {"event": "rejection", "ts": 5.0, "text": text, "ctx_conn": {local: text}}
    line = json_line(facts)
    assert "\n" not in line and "\r" not in line
    decoded = json.loads(line)
    assert decoded["text"] == text and decoded["ctx_conn"] == {local: text}
