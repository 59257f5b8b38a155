"""The running daemon's logs, field by field: reception, delivery, a 4xx transient, a 5xx
permanent failure (with its bouncelog classification) and an SMTP rejection, through a
real daemon, a real DNS server and a scripted sink; the JSON log states the same facts."""
from __future__ import annotations

import json
import re
import smtplib
import time

from ecelerity.log.records import split_at_record
from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

ID = re.compile(r"^[0-9A-F]{2}/[0-9A-F]{2}-\d{5}-[0-9A-F]{8}$")
LOGGERS = ('ec_logger "ec_logger" { heartbeat = 1 }\n'
           'bounce_logger "bounce_logger" { heartbeat = 1 }\n'
           'json_logger "events" { logfile = "var/log/events.json" }\n'
           "generate_bounces = false\n")
SCRIPT = {"rcpt_replies": {"soft@a.test": "451 4.2.0 try again later",
                           "bad@a.test": "550 5.1.1 no such user"}}


def _records(path):
    """The @-records of a log, as field lists (heartbeats included)."""
    if not path.exists():
        return []
    return [split_at_record(line) for line in path.read_text().splitlines() if line]


def _of_type(records, kind):
    return [r for r in records if len(r) > 4 and r[4] == kind]


def _assert_ts(value, started):
    assert value.isdigit() and len(value) == 10, value
    assert started - 1 <= int(value) <= time.time() + 1


def test_mainlog_bouncelog_rejectlog_and_json_tell_the_same_story(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}, **SCRIPT) as world:
        daemon = world.start_daemon(extra=LOGGERS)
        logs = tmp_path / "daemon" / "var" / "log"
        started = int(time.time())
        batch_id = world.send("alice@c.test", ["ok@a.test", "soft@a.test", "bad@a.test"],
                              make_body("golden"))
        with smtplib.SMTP("127.0.0.1", world.smtp_port, timeout=10) as client:
            client.ehlo("client.test")
            client.mail("mallory@c.test")
            code, text = client.rcpt("victim@elsewhere.test")
            assert (code, text) == (550, b"5.7.1 relaying denied")
            local_port = client.sock.getsockname()[1]

        mainlog = logs / "mainlog.ec"
        wait_until(lambda: {"D", "T", "P"} <= {r[4] for r in _records(mainlog) if len(r) > 4},
                   what="D, T and P records in the mainlog", daemon=daemon)
        records = _records(mainlog)

        # R: one per recipient-message, 14 fields, the inbound session's connid
        receptions = _of_type(records, "R")
        assert sorted(r[5] for r in receptions) == ["bad", "ok", "soft"]
        msgid = {}
        for r in receptions:
            assert len(r) == 14, r
            _assert_ts(r[0], started)
            assert ID.match(r[1]) and r[2] == batch_id and ID.match(r[3]), r
            assert r[6:10] == ["a.test", "alice", "c.test", "127.0.0.1"], r
            assert int(r[10]) > len(make_body("golden")), r  # + the Received: header
            assert r[11:] == ["esmtp", "default", "default"], r
            msgid[r[5]] = r[1]
        assert len(set(msgid.values())) == 3 and len({r[3] for r in receptions}) == 1
        size = receptions[0][10]

        # D: 12 fields; first attempt; the sink's address
        [delivery] = _of_type(records, "D")
        assert len(delivery) == 12, delivery
        assert delivery[1] == msgid["ok"] and delivery[2] == batch_id
        assert ID.match(delivery[3]) and delivery[3] != receptions[0][3]  # outbound conn
        assert delivery[5:10] == ["a.test", size, "default", "default", "0"], delivery
        assert re.match(r"^\d+(\.\d{1,3})?$", delivery[10]) and float(delivery[10]) < 10
        assert delivery[11] == "127.0.0.2"

        # T: 14 fields, stage 4 (during RCPT TO), the remote response
        transient = _of_type(records, "T")[0]
        assert len(transient) == 14, transient
        assert transient[1] == msgid["soft"]
        assert transient[5] == "a.test" and transient[7:9] == ["default", "default"]
        assert transient[9] == "4" and transient[10] == "0", transient
        assert transient[12:] == ["127.0.0.2", "451 4.2.0 try again later"], transient

        # P: the same layout
        [permanent] = _of_type(records, "P")
        assert len(permanent) == 14 and permanent[1] == msgid["bad"], permanent
        assert permanent[9] == "4" and permanent[12:] == ["127.0.0.2", "550 5.1.1 no such user"]

        # bouncelog: B for the permanent failure with classification 10 (Invalid
        # Recipient), T (classification 70) for the transient one
        bouncelog = logs / "bouncelog.ec"
        wait_until(lambda: _of_type(_records(bouncelog), "B"), what="bouncelog B", daemon=daemon)
        bounces = _records(bouncelog)
        [bounce] = _of_type(bounces, "B")
        assert len(bounce) == 16, bounce
        assert bounce[1:3] == [msgid["bad"], batch_id] and bounce[3] == permanent[3]
        assert bounce[5:11] == ["bad", "a.test", "alice", "c.test", "default", "default"]
        assert bounce[11:] == ["4", "10", size, "127.0.0.2", "550 5.1.1 no such user"], bounce
        soft = _of_type(bounces, "T")[0]
        assert soft[1] == msgid["soft"] and soft[12] == "70", soft

        # rejectlog: the refused RCPT, with the client's address and the phase
        rejectlog = logs / "rejectlog.ec"
        wait_until(lambda: "relaying denied" in (rejectlog.read_text() if rejectlog.exists()
                                                 else ""), what="rejectlog line", daemon=daemon)
        [line] = [x for x in rejectlog.read_text().splitlines() if "relaying denied" in x]
        match = re.match(r'^(\d{10}): R="127\.0\.0\.1:(\d+)" L="127\.0\.0\.1:(\d+)" '
                         r'C="([^"]+)" PATH="default" PATH_GRP="default" '
                         r'P="awaiting rcptto" E=550 M=\S+ CTXCONN=\[.*\] CTXMESS=\[.*\] '
                         r"relaying denied$", line)
        assert match, line
        assert int(match.group(2)) == local_port and int(match.group(3)) == world.smtp_port
        assert ID.match(match.group(4))

        # heartbeats (heartbeat = 1): ts@@@@M in the mainlog, ts@@@@M1 in the bouncelog
        wait_until(lambda: any(r[1:] == ["", "", "", "M"] for r in _records(mainlog)),
                   what="mainlog heartbeat", daemon=daemon)
        assert any(r[1:] == ["", "", "", "M1"] for r in _records(bouncelog))

        # JSON: the same facts for every mainlog record written so far
        events = [json.loads(x) for x in (logs / "events.json").read_text().splitlines()]
        by_key = {(e.get("type"), e.get("message_id"), e.get("conn_id")): e for e in events}
        for r in receptions + [delivery, transient, permanent]:
            event = by_key[(r[4], r[1], r[3])]
            assert str(event["size"]) == size and event["batch_id"] == batch_id
            assert event["rcpt_domain"] == "a.test" and event["sender"] == "alice@c.test"
            if r[4] != "R":
                retries = r[9] if r[4] == "D" else r[10]
                assert event["remote_ip"] == "127.0.0.2" and event["retries"] == int(retries)
        assert by_key[("P", msgid["bad"], permanent[3])]["response"] == "550 5.1.1 no such user"
        [rejection] = [e for e in events if e["event"] == "rejection"]
        assert rejection["code"] == 550 and rejection["text"] == "relaying denied"
