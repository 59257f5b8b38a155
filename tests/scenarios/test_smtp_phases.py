"""Validation phases seen from the wire: hooks reject, tarpit, disconnect, edit headers, bind."""
from __future__ import annotations

import signal
import time

import pytest

from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener { Listen "127.0.0.1:0" { } }
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phases")
    with smtp_listener(tmp, CONF, hooks="tests.scenarios.smtp_test_hooks:register") as lst:
        yield lst


def client(lst, helo="client.test"):
    c = RawClient(lst.port)
    c.read_reply()
    assert c.cmd(f"EHLO {helo}").code == 250
    return c


def test_phase_codes_and_order(run):
    c = RawClient(run.port)
    c.read_reply()
    assert c.cmd("EHLO bad.host").text == "5.7.1 we do not talk to bad hosts"
    assert c.cmd("EHLO good.host").code == 250
    assert c.cmd("MAIL FROM:<a@later.test>").text == "4.7.5 try again later"
    start = time.monotonic()
    assert c.cmd("MAIL FROM:<a@slow.test>").code == 250
    assert time.monotonic() - start >= 0.45  # tarpit
    assert c.cmd("RCPT TO:<blocked@example.com>").text == "5.1.1 no such user"
    assert c.cmd("RCPT TO:<ok@example.com>").code == 250
    assert c.cmd("RCPT TO:<late-reject@example.com>").code == 250
    c.cmd("DATA")
    c.send(b"From: a@slow.test\r\nSubject: hello\r\nX-Secret: 42\r\n\r\nbody\r\n.\r\n")
    assert c.read_reply().code == 250
    c.cmd("MAIL FROM:<a@b.org>")
    c.cmd("RCPT TO:<ok@example.com>")
    c.cmd("DATA")
    c.send(b"From: a@b.org\r\nSubject: reject\r\n\r\nbody\r\n.\r\n")
    assert c.read_reply().text == "5.7.1 content refused"
    c.cmd("MAIL FROM:<a@b.org>")
    c.cmd("RCPT TO:<late-reject@example.com>")
    c.cmd("DATA")
    c.send(b"From: a@b.org\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
    assert c.read_reply().text == "5.7.1 not for you"
    c.cmd("QUIT")


def test_disconnect_from_a_hook(run):
    c = RawClient(run.port)
    c.read_reply()
    reply = c.cmd("EHLO drop.host")
    assert (reply.code, reply.text) == (421, "4.7.0 Go away")
    assert c.is_closed()


def test_zz_spool_contents(run):
    """Runs last in this file (pytest keeps file order): stop the listener, read the spool."""
    run.proc.send_signal(signal.SIGTERM)
    run.proc.wait(timeout=15)
    batches = read_spool(run.spool_dir)
    assert len(batches) == 1
    env, data, rcpts = batches[0]
    assert rcpts == ["ok@example.com"]  # late-reject@ was dropped in data_spool_each_rcpt only
    assert env["binding"] == "outbound-b"
    assert env["conn_context"]["seen_connect"] == "yes"
    assert env["mess_context"]["hook_order"] == "module,lua"
    assert b"\r\nX-Policy: checked\r\n" in data and b"X-Secret" not in data
