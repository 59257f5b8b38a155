"""8BITMIME on the wire (delivery/client.py + downconvert.py through the engine): a sink
that does not advertise 8BITMIME receives 7-bit quoted-printable that the email package
decodes to the original; BODY=8BITMIME follows send_8bitmime; strict fails 5.6.3."""
from __future__ import annotations

import email
import email.policy


from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery.dns import DnsResolver
from ecelerity.delivery.engine import DeliveryEngine
from tests.helpers.sink import SmtpSink

SEVEN_BIT_PEER = ["PIPELINING", "SIZE 10485760", "ENHANCEDSTATUSCODES"]
BODY = (b"From: a@src.test\r\nSubject: menu\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
        b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e\r\n.dot line \xe2\x82\xac\r\n"
        b"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>caf\xc3\xa9</p>\r\n--b1--\r\n")


def deliver(spool, sink, extra="", *, body=BODY, body_type=None):
    cfg = load_config_text(f'gateway = "{sink.host}:{sink.port}"\nconnect_timeout = 3\n'
                           f'ehlo_timeout = 3\nmailfrom_timeout = 3\nrcptto_timeout = 3\n'
                           f'body_timeout = 3\n{extra}')
    engine = DeliveryEngine(lambda: cfg, spool, dns=DnsResolver(nameserver="127.0.0.1"))
    envelope = Envelope("a@src.test", [Recipient("b@dst.test")], body_type=body_type)
    messages = spool.store(envelope, body).messages
    try:
        return engine.deliver("default", "dst.test", messages)
    finally:
        engine.close()


def test_peer_without_8bitmime_gets_quoted_printable_that_decodes_to_the_original(spool):
    with SmtpSink("127.0.0.2", extensions=SEVEN_BIT_PEER) as sink:
        [result] = deliver(spool, sink, body_type="8BITMIME")
    assert result.outcome == "delivered"
    [received] = sink.messages
    assert received.body.isascii() and "BODY=8BITMIME" not in received.mail_params
    assert f"SIZE={len(received.body)}" in received.mail_params
    message = email.message_from_bytes(received.body, policy=email.policy.default)
    plain, html = message.get_payload()
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_payload(decode=True) == b"cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e\r\n.dot line \xe2\x82\xac"
    assert html.get_payload(decode=True) == b"<p>caf\xc3\xa9</p>"
    assert message["Subject"] == "menu"


def test_peer_with_8bitmime_gets_the_bytes_as_received_and_body_8bitmime(spool):
    with SmtpSink("127.0.0.2") as sink:
        deliver(spool, sink, 'send_8bitmime = "ifavailable"\n')
        deliver(spool, sink, 'send_8bitmime = "no"\n')
        deliver(spool, sink, 'send_8bitmime = "yes"\n', body=b"Subject: ascii\r\n\r\nhi\r\n")
        deliver(spool, sink, 'send_8bitmime = "ifavailable"\n', body=b"Subject: ascii\r\n\r\nhi\r\n")
    assert [m.body == BODY for m in sink.messages] == [True, True, False, False]
    assert ["BODY=8BITMIME" in m.mail_params for m in sink.messages] == [True, False, True, False]


def test_transform_no_sends_as_is_and_strict_fails_on_8bit_headers(spool):
    with SmtpSink("127.0.0.2", extensions=SEVEN_BIT_PEER) as sink:
        deliver(spool, sink, 'transform_8bitmime_content = "no"\n')
        [failed] = deliver(spool, sink, 'transform_8bitmime_content = "strict"\n',
                           body=b"Subject: caf\xc3\xa9\r\n\r\nx\r\n")
    assert [m.body for m in sink.messages] == [BODY]
    assert (failed.outcome, failed.code, failed.enhanced) == ("permanent", 554, "5.6.3")
    assert "8-bit data in headers" in failed.text
