"""SMTP AUTH in the running daemon's acctlog (momentum-facts.md §2.5): a good login is an
``N`` record with result 1, a wrong password ``N`` with 0, a client that stops answering
inside the exchange a ``T`` (timeout) record; the JSON log carries the same auth events."""
from __future__ import annotations

import base64
import json
import smtplib
import socket
import time

from ecelerity.log.records import split_at_record
from ecelerity.smtp.auth_backends import hash_password
from tests.helpers.daemon import free_port, start_daemon
from tests.scenarios.delivery_harness import wait_until

PASSWORD = "Tr0ub4dor&3"


def _config(port: int) -> str:
    return f'''
ec_logger "ec_logger" {{ heartbeat = 0 }}
json_logger "events" {{ logfile = "var/log/events.json" events = ("auth") }}
ESMTP_Listener {{
  enable_authentication = true
  auth_require_tls = false
  auth_failure_delay = 0
  idle_time = 1
  auth_users = [ carol = "{hash_password(PASSWORD, iterations=2000)}" ]
  Listen "127.0.0.1:{port}" {{ }}
}}
'''


def _records(path):
    if not path.exists():
        return []
    return [split_at_record(line) for line in path.read_text().splitlines() if line]


def _silent_auth_login(port: int) -> int:
    """AUTH LOGIN, send the user name, then say nothing until the daemon gives up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        stream = sock.makefile("rb")
        stream.readline()
        sock.sendall(b"EHLO quiet.test\r\n")
        while stream.readline()[3:4] == b"-":
            pass
        sock.sendall(b"AUTH LOGIN " + base64.b64encode(b"carol") + b"\r\n")
        assert stream.readline().startswith(b"334")  # Password:
        return int(stream.readline()[:3] or 0)  # the timeout reply


def test_auth_success_failure_and_timeout_are_acctlog_records(tmp_path):
    port = free_port()
    with start_daemon(_config(port), tmp_path) as daemon:
        started = int(time.time())
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("good.test")
            client.user, client.password = "carol", PASSWORD
            assert client.auth("PLAIN", client.auth_plain)[0] == 235
            good_port = client.sock.getsockname()[1]
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("bad.test")
            client.user, client.password = "carol", "wrong"
            try:  # one mechanism only: login() would try PLAIN, then LOGIN
                client.auth("PLAIN", client.auth_plain)
                raise AssertionError("a wrong password logged in")
            except smtplib.SMTPAuthenticationError as exc:
                assert exc.smtp_code == 535
            bad_port = client.sock.getsockname()[1]
        assert _silent_auth_login(port) == 421
        acctlog = tmp_path / "var" / "log" / "acctlog.ec"
        wait_until(lambda: len(_records(acctlog)) >= 3, what="3 acctlog records",
                   daemon=daemon)
    records = _records(acctlog)
    assert len(records) == 3
    for record in records:
        assert len(record) == 6 and started - 1 <= int(record[0]) <= time.time() + 1
        assert record[2] == f"127.0.0.1:{port}"
    assert records[0][1:] == ["N", f"127.0.0.1:{port}", f"127.0.0.1:{good_port}", "carol", "1"]
    assert records[1][1:] == ["N", f"127.0.0.1:{port}", f"127.0.0.1:{bad_port}", "carol", "0"]
    assert records[2][1] == "T" and records[2][5] == "0"
    events = [json.loads(line) for line in
              (tmp_path / "var" / "log" / "events.json").read_text().splitlines()]
    assert [(e["event"], e["type"], e["user"], e["result"]) for e in events] == [
        ("auth", "N", "carol", 1), ("auth", "N", "carol", 0), ("auth", "T", "", 0)]
