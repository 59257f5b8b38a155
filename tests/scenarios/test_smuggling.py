"""SMTP smuggling: only <CRLF>.<CRLF> ends DATA; other dot lines are data, never a second message.

Each case sends one DATA whose body holds a fake end-of-data followed by a complete
second SMTP transaction. The listener must treat all of it as body: exactly one
message in the spool, the smuggled MAIL FROM nowhere in the envelope list, and one
250 for the one real end of data.
"""
from __future__ import annotations

import pytest

from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = """
relay_domains = ( "example.com" )
rfc2822_lone_lf_in_body = "fix"
ESMTP_Listener { Listen "127.0.0.1:0" { } }
"""

SMUGGLED = b"MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: evil@attacker.test\r\n\r\nsmuggled\r\n"

CASES = {
    "lf-dot-lf": b"\n.\n",
    "cr-dot-cr": b"\r.\r",
    "lf-dot-crlf": b"\n.\r\n",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "crlf-dot-cr": b"\r\n.\r",
}


@pytest.mark.parametrize("fake_end", list(CASES.values()), ids=list(CASES))
def test_fake_end_of_data_never_ends_the_message(tmp_path, fake_end):
    with smtp_listener(tmp_path, CONF) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        assert c.cmd("MAIL FROM:<honest@b.org>").code == 250
        assert c.cmd("RCPT TO:<x@example.com>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(b"From: honest@b.org\r\n\r\nfirst part" + fake_end + SMUGGLED + b".\r\n")
        reply = c.read_reply()
        assert reply.code == 250, reply
        # nothing else is pending: the next command gets the next reply
        assert c.cmd("NOOP").text == "2.0.0 ok"
        c.cmd("QUIT")
    batches = read_spool(lst.spool_dir)
    assert len(batches) == 1
    env, data, rcpts = batches[0]
    assert env["mail_from"] == "honest@b.org" and rcpts == ["x@example.com"]
    assert b"smuggled" in data and b"MAIL FROM:<evil@attacker.test>" in data
    # bare CR / LF were normalised to CRLF, so no later hop can misread them either
    body = data.split(b"\r\n\r\n", 1)[1]
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"") and b"\r" not in body.replace(b"\r\n", b"")


def test_bare_lf_refused_when_pedantic(tmp_path):
    conf = CONF.replace('"fix"', '"pedantic"')
    with smtp_listener(tmp_path, conf) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<honest@b.org>")
        c.cmd("RCPT TO:<x@example.com>")
        c.cmd("DATA")
        c.send(b"From: honest@b.org\r\n\r\nfirst part\n.\n" + SMUGGLED + b".\r\n")
        reply = c.read_reply()
        assert reply.code == 550 and reply.text.startswith("5.6.0 ")
        assert c.cmd("NOOP").code == 250
    assert read_spool(lst.spool_dir) == []
