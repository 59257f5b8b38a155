"""Scenario: console queue commands against a running daemon holding real queued mail.

30 messages go to slow.test, whose sink answers 451 after DATA, and 10 to other.test
(same sink): ``delayed``/``domain``/``summary`` report them; ``flush domain`` makes the
daemon attempt them again at once (the sink sees the new attempts); ``message details``
shows the stored record; ``reroute queue`` moves other.test's mail to new.test, whose
sink accepts it; ``fail domain quiet`` ends slow.test's mail without any DSN.
"""
from __future__ import annotations

import json
import smtplib
import time

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink

CONF = """
relay_hosts = ( "127.0.0.0/8" )
retry_interval = 600
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "slow.test" {{ gateway = "127.0.0.2:{slow}" }}
Domain "other.test" {{ gateway = "127.0.0.2:{slow}" }}
Domain "new.test" {{ gateway = "127.0.0.3:{fast}" }}
"""


def inject(port: int, recipients: list[str]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for rcpt in recipients:
            client.sendmail("src@sender.test", [rcpt], f"From: src@sender.test\r\nTo: {rcpt}\r\n"
                            f"Subject: console test\r\n\r\nhello {rcpt}\r\n")


def as_json(daemon, line):
    reply = daemon.command(line + " --json")
    assert reply.status == 200, (line, reply.status, reply.text, reply.body)
    return json.loads("\n".join(reply.body))


def wait_for(what, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def delayed_of(daemon, domain):
    return {row["domain"]: row["delayed"] for row in as_json(daemon, "delayed")}.get(domain, 0)


def test_queue_commands_on_real_queued_mail(tmp_path):
    port = free_port()
    with SmtpSink("127.0.0.2", dot_default="451 4.3.0 try later") as slow, SmtpSink("127.0.0.3") as fast:
        with start_daemon(CONF.format(port=port, slow=slow.port, fast=fast.port), tmp_path) as daemon:
            assert daemon.command("summary").status != 404, \
                "daemon/app.py does not register the console commands (commands_all.py) yet"
            inject(port, [f"u{i}@slow.test" for i in range(30)] + [f"o{i}@other.test" for i in range(10)])
            wait_for("30 delayed", lambda: delayed_of(daemon, "slow.test") == 30
                     and delayed_of(daemon, "other.test") == 10)

            domain = as_json(daemon, "domain slow.test")
            assert (domain["active"], domain["delayed"], domain["received"]) == (0, 30, 30)
            text = daemon.command("domain slow.test").body
            assert "\tDelayed:        30" in text and "Last Error: 451 4.3.0 try later" in text
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # no From: -> 550, rejected
                with pytest.raises(smtplib.SMTPDataError):
                    client.sendmail("src@sender.test", ["x@slow.test"], "Subject: no from\r\n\r\nx\r\n")
            summary = as_json(daemon, "summary")
            assert (summary["received"], summary["transient_failures"], summary["delayed_queue_size"],
                    summary["total_queue_size"], summary["delivered"], summary["rejected"]) == (40, 40, 40, 40, 0, 1)

            attempts = len(slow.messages)
            assert attempts == 40
            assert as_json(daemon, "flush domain slow.test")["messages"] == 30
            wait_for("30 new attempts", lambda: len(slow.messages) >= attempts + 30)
            assert {m.rcpts[0] for m in slow.messages[attempts:]} == {f"u{i}@slow.test" for i in range(30)}
            wait_for("30 delayed again", lambda: delayed_of(daemon, "slow.test") == 30)

            first = as_json(daemon, "showqueue slow.test 1,0")[0]
            details = dict(line.strip().split(": ", 1) for line in daemon.command(
                f"message details {first['id']}").body if ": " in line)
            assert details["Message"] == first["id"] and details["Retries"] == "2"
            assert details["Code"] == "451 4.3.0 try later" and details["Sender"] == "src@sender.test"
            assert details["Recipient"] == first["to"] and details["Received Via"] == "ESMTP 127.0.0.1 (IPv4)"

            assert as_json(daemon, "reroute queue other.test new.test")["messages"] == 10
            assert as_json(daemon, "flush domain new.test")["messages"] == 10
            wait_for("10 delivered to new.test's sink", lambda: len(fast.messages) == 10)
            assert sorted(m.rcpts[0] for m in fast.messages) == sorted(f"o{i}@other.test" for i in range(10))
            wait_for("delivered counted", lambda: as_json(daemon, "summary")["delivered"] == 10)

            assert daemon.command("fail domain quiet slow.test").body == [
                "30 message(s) failed quietly for slow.test"]
            summary = as_json(daemon, "summary")
            assert (summary["failed"], summary["total_queue_size"], summary["delivered"]) == (30, 0, 10)
            time.sleep(0.3)  # a DSN would be queued to sender.test by now
            assert as_json(daemon, "mailq")["QueueSummary"] == [] or all(
                r["aq"] + r["dq"] == 0 for r in as_json(daemon, "mailq")["QueueSummary"])
            assert daemon.stop() == 0
