"""Listener limits over the wire: sessions, receptions per connection, inbound throttle, envelope rules."""
from __future__ import annotations

import pytest

from tests.scenarios.smtp_harness import RawClient, smtp_listener, wait_for

BASE = """
relay_domains = ( "example.com" )
{extra_global}
ESMTP_Listener {{
  Listen "127.0.0.1:0" {{ {listen} }}
}}
"""


def conf(listen="", extra_global=""):
    return BASE.format(listen=listen, extra_global=extra_global)


def one_message(c, sender="a@b.org"):
    assert c.cmd(f"MAIL FROM:<{sender}>").code == 250
    assert c.cmd("RCPT TO:<x@example.com>").code == 250
    assert c.cmd("DATA").code == 354
    c.send(b"From: a@b.org\r\n\r\nhi\r\n.\r\n")
    return c.read_reply()


def test_listener_sessions_limit(tmp_path):
    with smtp_listener(tmp_path, conf("listener_sessions = 2")) as lst:
        first, second = RawClient(lst.port), RawClient(lst.port)
        assert first.read_reply().code == 220 and second.read_reply().code == 220
        third = RawClient(lst.port)
        reply = third.read_reply()
        assert (reply.code, reply.text) == (421, "4.4.5 Service unavailable, concurrency limit reached")
        assert third.is_closed()
        first.cmd("QUIT")
        first.close()

        def a_slot_is_free():
            c = RawClient(lst.port)
            ok = c.read_reply().code == 220
            c.close()
            return ok
        assert wait_for(a_slot_is_free)


def test_max_receptions_per_connection(tmp_path):
    with smtp_listener(tmp_path, conf("max_receptions_per_connection = 2")) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        assert one_message(c).code == 250
        assert one_message(c).code == 250
        reply = c.cmd("MAIL FROM:<a@b.org>")
        assert reply.code == 421 and reply.text.startswith("4.7.0 ")
        assert c.is_closed()


def test_inbound_throttle(tmp_path):
    with smtp_listener(tmp_path, conf(extra_global='inbound_throttle_messages = "2/60"')) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        assert one_message(c).code == 250
        assert one_message(c).code == 250
        reply = c.cmd("MAIL FROM:<a@b.org>")
        assert (reply.code, reply.text) == (451, "4.7.1 inbound message rate exceeded, try again later")


@pytest.mark.parametrize("listen, command, code, text", [
    ("require_ehlo = true", "MAIL FROM:<a@b.org>", 503, "5.5.1 EHLO required"),
    ("", "MAIL FROM:<a@b.org>", 250, "2.0.0 MAIL FROM accepted"),  # no HELO needed by default
    ("allow_null_envelope_sender = false", "MAIL FROM:<>", 550, "5.1.7 null envelope sender not permitted"),
    ("allow_ip_literal = false", "MAIL FROM:<a@[192.0.2.1]>", 553, "5.1.3 IP literal addresses not permitted"),
    ("", "MAIL FROM:<a@[192.0.2.1]>", 250, "2.0.0 MAIL FROM accepted"),
    ("allow_trailing_whitespace_in_commands = true", "MAIL FROM:<a@b.org>  ", 250, "2.0.0 MAIL FROM accepted"),
])
def test_envelope_options(tmp_path, listen, command, code, text):
    with smtp_listener(tmp_path, conf(listen)) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        reply = c.cmd(command)
        assert (reply.code, reply.text) == (code, text)


@pytest.mark.parametrize("extra, command, code", [
    ("rfc2821_allow_whitespace_in_envelope = true", "MAIL FROM: <a@b.org>", 250),
    ("rfc2821_pedantic_address_rules = false", "MAIL FROM:<a..b.@b.org>", 250),
    ("", "MAIL FROM:<a..b.@b.org>", 553),
])
def test_address_relaxations(tmp_path, extra, command, code):
    with smtp_listener(tmp_path, conf(extra_global=extra)) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        assert c.cmd(command).code == code
