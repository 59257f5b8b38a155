"""Every reply-code path of the SMTP conversation, over a real socket to the real listener."""
from __future__ import annotations

import re

import pytest

from tests.scenarios.smtp_harness import RawClient, smtp_listener

CONF = """
relay_domains = ( "example.com" "*.sub.example.org" )
ESMTP_Listener {
  Listen "127.0.0.1:0" { }
  max_message_size = 2000
  max_recipients_per_message = 3
}
"""


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    with smtp_listener(tmp_path_factory.mktemp("replies"), CONF) as lst:
        yield lst


@pytest.fixture
def client(listener):
    c = RawClient(listener.port)
    banner = c.read_reply()
    assert banner.code == 220
    yield c
    c.close()


def greeted(c):
    assert c.cmd("EHLO client.test").code == 250
    return c


def test_banner_and_ehlo_capabilities(listener):
    c = RawClient(listener.port)
    banner = c.read_reply()
    assert re.match(r"2\.0\.0 \S+ ESMTP ecelerity \d+\.\d+\.\d+ \w{3}, ", banner.text)
    ehlo = c.cmd("EHLO client.test")
    assert ehlo.code == 250
    assert re.match(r"\S+ says EHLO to 127\.0\.0\.1:\d+$", ehlo.lines[0])
    for cap in ("PIPELINING", "SIZE 2000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN"):
        assert cap in ehlo.lines[1:]
    assert c.cmd("HELO client.test").lines[0].endswith(f"says HELO to 127.0.0.1:{c.sock.getsockname()[1]}")
    quit_reply = c.cmd("QUIT")
    assert quit_reply.code == 221 and quit_reply.text.startswith("2.3.0 ") and quit_reply.text.endswith("closing connection")
    assert c.is_closed()


@pytest.mark.parametrize("line, code, text", [
    ("FROB", 500, "5.5.2 unrecognized command"),
    ("VRFY postmaster", 252, "2.5.2 Cannot VRFY user, but will accept message and attempt delivery"),
    ("EXPN staff", 252, "2.5.2 Cannot EXPN list, but will accept message and attempt delivery"),
    ("VRFY", 501, "5.5.4 VRFY requires an argument"),
    ("NOOP", 250, "2.0.0 ok"),
    ("RSET", 250, "2.0.0 reset"),
    ("RSET now", 501, "5.5.4 RSET takes no arguments"),
    ("EHLO", 501, "5.5.4 HELO/EHLO requires a domain or address literal"),
    ("DATA", 503, "5.5.1 MAIL FROM first"),
    ("RCPT TO:<a@example.com>", 503, "5.5.1 MAIL FROM first"),
    ("MAIL FROM:<a@b.org> FOO=BAR", 555, "5.5.4 MAIL FROM/RCPT TO parameters not recognized or not implemented"),
    ("MAIL FROM:<a@b.org> SIZE=2001", 552, "5.3.4 message size limit exceeded"),
    ("MAIL FROM:<a@b.org> SIZE=x", 501, "5.5.4 SIZE requires a number"),
    ("MAIL FROM:<a@b.org> BODY=BINARYMIME", 501, "5.5.4 BODY must be 7BIT or 8BITMIME"),
    ("MAIL FROM:<a@b.org> RET=ALL", 501, "5.5.4 RET must be FULL or HDRS"),
    ("MAIL FROM:a@b.org", 501, None),
    ("MAIL FROM: <a@b.org>", 501, None),
    ("MAIL FROM:<a@@b.org>", 553, None),
    ("MAIL FROM:<j\u00f6rg@b.org>", 553, "5.6.7 non-ASCII address requires SMTPUTF8"),
    ("NOOP ", 501, "5.5.2 trailing whitespace not permitted"),
    ("HELP", 214, None),
])
def test_single_command_replies(client, line, code, text):
    greeted(client)
    reply = client.cmd(line)
    assert reply.code == code, reply
    if text is not None:
        assert reply.lines[-1] == text


def test_transaction_errors(client):
    greeted(client)
    assert client.cmd("MAIL FROM:<a@b.org>").text == "2.0.0 MAIL FROM accepted"
    assert client.cmd("MAIL FROM:<a@b.org>").code == 503
    assert client.cmd("DATA").text == "5.5.1 DATA without RCPT TO"
    assert client.cmd("RCPT TO:<>").code == 501
    assert client.cmd("RCPT TO:<x@example.com> NOTIFY=SOMETIMES").code == 501
    assert client.cmd("RCPT TO:<x@example.com> ORCPT=rfc822").code == 501
    assert client.cmd("RCPT TO:<x@evil.test>").text == "5.7.1 relaying denied"
    assert client.cmd("RCPT TO:<x@example.com>").text == "2.0.0 RCPT TO accepted"
    assert client.cmd("RCPT TO:<y@a.sub.example.org>").code == 250
    assert client.cmd("RCPT TO:<Postmaster>").code == 250
    reply = client.cmd("RCPT TO:<z@example.com>")
    assert (reply.code, reply.text) == (452, "4.5.3 Service unavailable, recipients per message limit reached")
    assert client.cmd("RSET").code == 250
    assert client.cmd("RCPT TO:<x@example.com>").code == 503


def test_helo_session_refuses_esmtp_parameters(client):
    assert client.cmd("HELO client.test").code == 250
    assert client.cmd("MAIL FROM:<a@b.org> SIZE=10").code == 555
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250


def test_oversized_body_refused_while_streaming(client):
    greeted(client)
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250
    assert client.cmd("RCPT TO:<x@example.com>").code == 250
    assert client.cmd("DATA").code == 354
    client.send(b"From: a@b.org\r\n\r\n" + (b"x" * 70 + b"\r\n") * 40 + b".\r\n")
    reply = client.read_reply()
    assert (reply.code, reply.text) == (552, "5.3.4 message size limit exceeded")
    # the session goes on: a new transaction works
    assert client.cmd("MAIL FROM:<a@b.org>").code == 250


def test_command_line_too_long(client):
    greeted(client)
    reply = client.cmd("NOOP " + "x" * 5000)
    assert (reply.code, reply.text) == (500, "5.5.2 Line too long")
    assert client.cmd("NOOP").code == 250


def test_missing_from_header_refused(client):
    greeted(client)
    client.cmd("MAIL FROM:<a@b.org>")
    client.cmd("RCPT TO:<x@example.com>")
    assert client.cmd("DATA").code == 354
    client.send(b"Subject: no from\r\n\r\nbody\r\n.\r\n")
    reply = client.read_reply()
    assert (reply.code, reply.text) == (550, "5.6.0 Required headers not found (see RFC2822 section 3.6)")


def test_bare_lf_in_headers_refused(client):
    greeted(client)
    client.cmd("MAIL FROM:<a@b.org>")
    client.cmd("RCPT TO:<x@example.com>")
    assert client.cmd("DATA").code == 354
    client.send(b"From: a@b.org\nSubject: bare\r\n\r\nbody\r\n.\r\n")
    reply = client.read_reply()
    assert reply.code == 550 and reply.text.startswith("5.6.0 ")


def test_accepted_reply_carries_message_id(client):
    greeted(client)
    client.cmd("MAIL FROM:<>")
    client.cmd("RCPT TO:<x@example.com>")
    assert client.cmd("DATA").text == '3.0.0 continue.  finished with "\\r\\n.\\r\\n"'
    client.send(b"From: a@b.org\r\n\r\nhi\r\n.\r\n")
    reply = client.read_reply()
    assert reply.code == 250
    assert re.fullmatch(r"2\.0\.0 OK [0-9A-F]{2}/[0-9A-F]{2}-\d{5}-[0-9A-F]{8}", reply.text)
