"""ecelerity/delivery/client.py: STARTTLS policies against a real TLS sink, dot-stuffing."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery import client as stages
from ecelerity.delivery.client import ClientSettings, SmtpClient, SmtpFailure, dot_stuff
from tests.helpers.certs import make_pki
from tests.helpers.sink import SmtpSink

BODY = b"Subject: t\r\n\r\nhello\r\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def send_one(sink: SmtpSink, **options) -> SmtpClient:
    client = SmtpClient(sink.host, sink.port, ClientSettings(connect_timeout=2, ehlo_timeout=2,
                                                             **options), server_name="localhost")
    client.open()
    transaction = client.send(Envelope("s@src.test", [Recipient("r@dst.test")], ret="HDRS"),
                              [Recipient("r@dst.test", notify="FAILURE", orcpt="rfc822;r@dst.test")],
                              BODY)
    assert transaction.data_reply is not None and transaction.data_reply.code == 250
    client.quit()
    return client


def test_ifavailable_uses_tls_when_offered(pki):
    with SmtpSink("127.0.0.1", tls=(str(pki.server_cert), str(pki.server_key))) as sink:
        assert send_one(sink, tls="ifavailable").tls_active
        assert sink.messages[0].tls and sink.messages[0].body == BODY
        assert sink.messages[0].rcpt_params == [["NOTIFY=FAILURE", "ORCPT=rfc822;r@dst.test"]]
        assert "RET=HDRS" in sink.messages[0].mail_params


def test_ifavailable_without_offer_sends_in_clear_and_no_never_starts_tls(pki):
    with SmtpSink("127.0.0.1") as sink:
        assert not send_one(sink, tls="ifavailable").tls_active
    with SmtpSink("127.0.0.1", tls=(str(pki.server_cert), str(pki.server_key))) as sink:
        assert not send_one(sink, tls="no").tls_active
        assert "STARTTLS" not in sink.commands


def test_required_without_offer_fails_before_mail(pki):
    with SmtpSink("127.0.0.1") as sink:
        with pytest.raises(SmtpFailure) as caught:
            send_one(sink, tls="required")
        assert caught.value.reply.code == 451 and caught.value.reply.enhanced == "4.7.5"
        assert caught.value.stage == stages.AFTER_EHLO and sink.messages == []


def test_verify_against_the_right_ca_passes_and_a_wrong_ca_fails(pki):
    tls = (str(pki.server_cert), str(pki.server_key))
    with SmtpSink("127.0.0.1", tls=tls) as sink:
        assert send_one(sink, tls="required", tls_verify="host", tls_ca=str(pki.ca_cert)).tls_active
        with pytest.raises(SmtpFailure) as caught:
            send_one(sink, tls="required", tls_verify="ca", tls_ca=str(pki.other_ca_cert))
        assert caught.value.stage == stages.TLS_HANDSHAKE and caught.value.reply.code == 451
        # ifavailable with fallback retries in clear text after the failed handshake
        client = send_one(sink, tls="ifavailable", tls_verify="ca", tls_ca=str(pki.other_ca_cert))
        assert not client.tls_active and sink.messages[-1].tls is False


def test_8bitmime_body_parameter_only_when_offered():
    envelope = Envelope("s@src.test", [Recipient("r@dst.test")], body_type="8BITMIME")
    for extensions, expected in ((["8BITMIME"], True), ([], False)):
        with SmtpSink("127.0.0.1", extensions=extensions) as sink:
            client = SmtpClient(sink.host, sink.port, ClientSettings(connect_timeout=2, ehlo_timeout=2))
            client.open()
            client.send(envelope, envelope.recipients, "caf\u00e9\r\n".encode())
            client.quit()
            assert ("BODY=8BITMIME" in sink.messages[0].mail_params) is expected


def test_message_over_the_advertised_size_is_refused_permanently_without_sending():
    with SmtpSink("127.0.0.1", extensions=["SIZE 10"]) as sink:
        client = SmtpClient(sink.host, sink.port, ClientSettings(connect_timeout=2, ehlo_timeout=2))
        client.open()
        with pytest.raises(SmtpFailure) as caught:
            client.send(Envelope("s@x.test", [Recipient("r@y.test")]), [Recipient("r@y.test")], BODY)
        client.close()
    assert caught.value.reply.code == 552 and caught.value.reply.enhanced == "5.3.4"
    assert not any(c.startswith("MAIL") for c in sink.commands)


def _unstuff(data: bytes) -> bytes:
    assert data.endswith(b".\r\n")
    lines = data[:-3].split(b"\r\n")[:-1]
    return b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
                max_size=10))
def test_dot_stuffing_round_trips_and_never_ends_data_early(lines):
    body = b"".join(line + b"\r\n" for line in lines)
    stuffed = dot_stuff(body)
    assert b"\r\n.\r\n" not in b"\r\n" + stuffed[:-3]
    assert _unstuff(stuffed) == body


def _reference_dot_stuff(body: bytes) -> bytes:
    """The plain two-regex definition the fast path must agree with."""
    import re

    body = re.sub(rb"(?<!\r)\n", b"\r\n", body)
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", body) + b".\r\n"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"..", b"x.y", b"\xc3\xa9"]),
                max_size=30).map(b"".join))
def test_dot_stuff_fast_path_agrees_with_the_regex_definition(body):
    assert dot_stuff(body) == _reference_dot_stuff(body)
