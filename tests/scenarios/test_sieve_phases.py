"""Sieve++ in the validation phases of a real daemon, driven by real SMTP sessions.

"Header added in the delivered message" and "binding chosen" are checked on the
spooled message (its bytes and SpooledMessage.binding); delivery is suspended
(suspend_delivery) so the message is still in the spool when the daemon stops.
"""
from __future__ import annotations

import re
import time

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.scenarios.smtp_harness import RawClient, read_spool

SCRIPTS = {
    "rcptto.siv": r'''
require ["ec_action", "envelope"];
if envelope :localpart :is "to" "blocked" {
  ec_action 550 "5.7.1 recipient refused by policy" "blocked_rcpt";
}
if envelope :localpart :is "to" "hangup" {
  ec_disconnect 421 "4.7.0 go away";
}
''',
    "ehlo.siv": r'''
$ehlo = vctx_conn_get "ehlo_domain";
if ec_test :is $ehlo "slow.example" { ec_tarpit 1 "slowdown"; }
''',
    "data.siv": r'''require "regex";
$subject = ec_header_get "Subject";
ec_header_add "X-Sieve-Checked" "yes, subject was ${subject} from %{vctx_conn:ehlo_domain}";
if ec_test :contains $subject "hostile" {
  if header :regex "Subject" "(a+)+$" { keep; }
}
''',
    "binding.siv": r'''
ec_set_binding "b2";
''',
}

CONF = """
relay_domains = ( "example.com" )
suspend_delivery = true
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
binding "b1" {{ }}
binding "b2" {{ }}
sieve "sieve1" {{
  runtime_error = fail
  script rcptto_phase1 {{ source = "rcptto.siv" }}
  script ehlo_phase1 {{ source = "ehlo.siv" }}
  script data_phase2 {{ source = "data.siv" }}
  script set_binding_phase1 {{ source = "binding.siv" }}
}}
"""


def _start(tmp_path):
    for name, text in SCRIPTS.items():
        (tmp_path / name).write_text(text)
    port = free_port()
    d = start_daemon(CONF.format(port=port), tmp_path)
    d.port = port
    return d


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with _start(tmp_path_factory.mktemp("sieve")) as d:
        yield d


def _session(port: int, ehlo: str = "client.example") -> RawClient:
    client = RawClient(port)
    assert client.read_reply().code == 220
    assert client.cmd(f"EHLO {ehlo}").code == 250
    return client


def test_ec_action_in_rcptto_refuses_that_recipient_with_its_enhanced_code(daemon):
    client = _session(daemon.port)
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250
    reply = client.cmd("RCPT TO:<blocked@example.com>")
    assert (reply.code, reply.lines[0]) == (550, "5.7.1 recipient refused by policy")
    assert client.cmd("RCPT TO:<fine@example.com>").code == 250
    client.close()
    stats = daemon.command("sieve:sieve1 stats")
    assert any("rcptto_phase1:blocked_rcpt (5xx) = " in line for line in stats.body)


def test_ec_disconnect_closes_the_session_with_421(daemon):
    client = _session(daemon.port)
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250
    reply = client.cmd("RCPT TO:<hangup@example.com>")
    assert reply.code == 421 and reply.lines[0].startswith("4.7.0 go away")
    assert client.sock.recv(100) == b""  # the server closed the connection
    client.close()


def test_ec_tarpit_delays_the_ehlo_reply(daemon):
    client = RawClient(daemon.port)
    client.read_reply()
    started = time.monotonic()
    assert client.cmd("EHLO slow.example").code == 250
    slow = time.monotonic() - started
    started = time.monotonic()
    assert client.cmd("EHLO fast.example").code == 250
    fast = time.monotonic() - started
    client.close()
    assert slow >= 1.0 and fast < 0.5


def test_header_added_in_data_phase_and_binding_are_in_the_spooled_message(tmp_path):
    with _start(tmp_path) as daemon:
        _send_report(daemon.port)
    # the spool is read once the daemon has stopped (it holds the spool lock)
    batches = read_spool(tmp_path / "var" / "spool")
    [(env, data, rcpts)] = batches
    assert rcpts == ["x@example.com"]
    assert (b"X-Sieve-Checked: yes, subject was quarterly report from client.example\r\n"
            in data)
    assert data.index(b"X-Sieve-Checked:") < data.index(b"From: a@b.org")  # prepended
    assert env["binding"] == "b2"


def _send_report(port: int) -> None:
    client = _session(port, "client.example")
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250
    assert client.cmd("RCPT TO:<x@example.com>").code == 250
    assert client.cmd("DATA").code == 354
    client.send(b"From: a@b.org\r\nSubject: quarterly report\r\n\r\nhello\r\n.\r\n")
    reply = client.read_reply()
    assert reply.code == 250, reply
    client.close()


def test_catastrophic_regex_is_bounded_and_the_daemon_keeps_serving(daemon):
    client = _session(daemon.port)
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250
    assert client.cmd("RCPT TO:<x@example.com>").code == 250
    assert client.cmd("DATA").code == 354
    started = time.monotonic()
    client.send(b"From: a@b.org\r\nSubject: hostile " + b"a" * 5000 + b"!\r\n\r\nx\r\n.\r\n")
    reply = client.read_reply()
    assert time.monotonic() - started < 5
    assert (reply.code, reply.lines[0]) == (451, "4.3.0 policy script error, try again later")
    client.close()
    log = daemon.wait_for_paniclog("exceeded its time budget")
    assert "data.siv:5:6: runtime error" in log
    client = _session(daemon.port)  # still serving
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250
    client.close()


def test_console_test_testfile_reset_and_flush_cache(daemon):
    msg = daemon.cwd / "probe.eml"
    msg.write_bytes(b"From: a@b.org\r\nSubject: probe\r\n\r\nx\r\n")
    out = daemon.command(f"sieve:sieve1 test rcptto {msg} a@b.org blocked@example.com")
    assert "reply: 550 5.7.1 recipient refused by policy" in out.body
    out = daemon.command(f"sieve:sieve1 testfile {daemon.cwd / 'data.siv'} {msg} data")
    assert "header: prepend X-Sieve-Checked: yes, subject was probe from " in out.body
    # the 4 configured scripts plus the one testfile just compiled
    assert daemon.command("sieve:sieve1 flush cache").body == [
        "flushed 5 entries from the script cache"]
    daemon.command("sieve:sieve1 reset")
    assert daemon.command("sieve:sieve1 stats").body == ["no counters"]


def test_a_script_that_does_not_compile_is_reported_and_mail_still_flows(tmp_path):
    (tmp_path / "broken.siv").write_text('if header :is "Subject" {\n  keep;\n')
    port = free_port()
    conf = (f'relay_domains = ( "example.com" )\nESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n'
            'sieve "s" {\n  script rcptto_phase1 { source = "broken.siv" }\n}\n')
    with start_daemon(conf, tmp_path) as d:
        log = d.wait_for_paniclog("sieve script does not compile")
        assert re.search(r"ecelerity\.conf:\d+:26: sieve script does not compile: "
                         r"broken\.siv:3:1: expected '}' to close the block of 'if'", log)
        client = _session(port)
        assert client.cmd("MAIL FROM:<a@b.org>").code == 250
        assert client.cmd("RCPT TO:<x@example.com>").code == 250
        client.close()
