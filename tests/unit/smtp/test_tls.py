"""ecelerity/smtp/tls.py: protocol lists, the context cache, STARTTLS on a real loopback socket."""
from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import socket
import ssl

import pytest

import ecelerity.smtp.auth  # noqa: F401 - registers AUTH (checked in the post-TLS EHLO)
from ecelerity.smtp import tls
from ecelerity.smtp.settings import SessionSettings
from tests.helpers.certs import make_pki
from tests.helpers.inproc_smtp import SessionServer
from tests.scenarios.smtp_harness import RawClient

MESSAGE = b"From: a@example.test\r\nSubject: tls\r\n\r\nline one\r\n..dot line\r\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("tls"))


def tls_settings(pki, **extra) -> SessionSettings:
    settings = SessionSettings(hostname="mx.test")
    settings.tls_certificate = str(pki.server_cert)
    settings.tls_key = str(pki.server_key)
    for name, value in extra.items():
        setattr(settings, name, value)
    return settings


def client_context(pki, **kw) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    for name, value in kw.items():
        setattr(ctx, name, value)
    return ctx


def raw_starttls(client: RawClient, ctx: ssl.SSLContext) -> None:
    client.sock = ctx.wrap_socket(client.sock, server_hostname="localhost")
    client.buf = b""


# -- tls_protocols ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    (None, ("TLSv1_2", "TLSv1_3")),
    ("", ("TLSv1_2", "TLSv1_3")),
    ("+TLSv1.2:+TLSv1.3", ("TLSv1_2", "TLSv1_3")),
    ("TLSv1.3", ("TLSv1_3", "TLSv1_3")),
    ("!TLSv1.2", ("TLSv1_3", "TLSv1_3")),
    ("ALL:-TLSv1:-TLSv1.1", ("TLSv1_2", "TLSv1_3")),
    ("ALL", ("TLSv1", "TLSv1_3")),
    ("+SSLv3 +TLSv1.1, +TLSv1.2", ("TLSv1_1", "TLSv1_2")),
])
def test_parse_protocols(text, expected):
    low, high = tls.parse_protocols(text)
    assert (low.name, high.name) == expected


@pytest.mark.parametrize("text", ["SSLv3", "+TLSv1.4", "ALL:-ALL", "sslv2"])
def test_parse_protocols_refuses_unusable_lists(text):
    with pytest.raises(tls.TLSConfigError):
        tls.parse_protocols(text)


# -- the context cache -----------------------------------------------------------------------
def test_context_is_built_once_per_profile_and_rebuilt_when_the_certificate_changes(pki, tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_bytes(pki.server_cert.read_bytes())
    profile = tls.TLSProfile(str(cert), str(pki.server_key))
    first = tls.server_context(profile)
    built = tls.contexts_built
    assert tls.server_context(tls.TLSProfile(str(cert), str(pki.server_key))) is first
    assert tls.contexts_built == built
    os.utime(cert, ns=(1_000_000_000, 1_000_000_000))  # a renewed certificate: new stamp
    assert tls.server_context(profile) is not first
    assert tls.contexts_built == built + 1
    other = tls.server_context(tls.TLSProfile(str(cert), str(pki.server_key), protocols="TLSv1.3"))
    assert other.minimum_version == ssl.TLSVersion.TLSv1_3


def test_unusable_profiles_raise_with_the_file_named(pki, tmp_path):
    with pytest.raises(tls.TLSConfigError, match="missing.pem"):
        tls.server_context(tls.TLSProfile(str(tmp_path / "missing.pem"), str(pki.server_key)))
    with pytest.raises(tls.TLSConfigError, match="tls_client_ca"):
        tls.server_context(tls.TLSProfile(str(pki.server_cert), str(pki.server_key), verify_mode="require"))
    with pytest.raises(tls.TLSConfigError, match="tls_verify_mode"):
        tls.server_context(tls.TLSProfile(str(pki.server_cert), str(pki.server_key),
                                          client_ca=str(pki.ca_cert), verify_mode="sometimes"))
    with pytest.raises(tls.TLSConfigError):
        tls.server_context(tls.TLSProfile(str(pki.server_cert), str(pki.client_key)))  # wrong key


# -- STARTTLS on the wire --------------------------------------------------------------------
def test_starttls_with_smtplib_verifying_our_ca_then_the_message_is_spooled(pki, tmp_path):
    with SessionServer(tmp_path, lambda peer: tls_settings(pki, enable_authentication=True)) as srv:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.ehlo("client.test")
            assert client.has_extn("starttls")
            assert not client.has_extn("auth")  # only after TLS by default
            code, text = client.starttls(context=client_context(pki))
            assert (code, text) == (220, b"2.0.0 Ready to start TLS")
            assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
            client.ehlo("client.test")
            assert not client.has_extn("starttls")
            assert client.has_extn("auth")
            client.sendmail("a@example.test", ["postmaster"], MESSAGE)
    [(env, data, rcpts)] = srv.stored()
    assert rcpts == ["postmaster"]
    assert env["protocol"] == "esmtps"
    assert env["conn_context"]["tls"] == "yes"
    assert env["conn_context"]["tls_protocol"] in ("TLSv1.2", "TLSv1.3")
    body = data.split(b"\r\n\r\n", 1)[1]
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(MESSAGE.split(b"\r\n\r\n", 1)[1]).hexdigest()


def test_starttls_is_not_offered_without_a_certificate(tmp_path):
    with SessionServer(tmp_path) as srv:
        client = RawClient(srv.port)
        client.read_reply()
        assert "STARTTLS" not in client.cmd("EHLO c.test").lines
        reply = client.cmd("STARTTLS")
        assert (reply.code, reply.lines[0][:5]) == (502, "5.5.1")
        assert client.cmd("NOOP").code == 250
        client.close()


def test_starttls_refusals_arguments_before_ehlo_in_transaction_and_twice(pki, tmp_path):
    with SessionServer(tmp_path, lambda peer: tls_settings(pki)) as srv:
        client = RawClient(srv.port)
        client.read_reply()
        assert client.cmd("STARTTLS").code == 503  # EHLO first
        client.cmd("EHLO c.test")
        assert client.cmd("STARTTLS now").code == 501
        client.cmd("MAIL FROM:<a@example.test>")
        assert client.cmd("STARTTLS").lines[0].startswith("5.5.1")
        client.cmd("RSET")
        assert client.cmd("STARTTLS").code == 220
        raw_starttls(client, client_context(pki))
        assert client.cmd("EHLO c.test").code == 250
        reply = client.cmd("STARTTLS")
        assert reply.code == 503 and "already" in reply.text
        client.close()


def test_state_goes_back_to_before_ehlo_after_the_handshake(pki, tmp_path):
    with SessionServer(tmp_path, lambda peer: tls_settings(pki, require_ehlo=True)) as srv:
        client = RawClient(srv.port)
        client.read_reply()
        client.cmd("EHLO c.test")
        assert client.cmd("STARTTLS").code == 220
        raw_starttls(client, client_context(pki))
        reply = client.cmd("MAIL FROM:<a@example.test>")
        assert reply.code == 503  # the EHLO before TLS is forgotten (RFC 3207 4.2)
        assert client.cmd("EHLO c.test").code == 250
        assert client.cmd("MAIL FROM:<a@example.test>").code == 250
        client.close()


@pytest.mark.parametrize("policy", ["reject", "discard"])
def test_commands_pipelined_after_starttls_are_never_interpreted(pki, tmp_path, policy):
    with SessionServer(tmp_path, lambda peer: tls_settings(pki, starttls_injection_policy=policy)) as srv:
        client = RawClient(srv.port)
        client.read_reply()
        client.cmd("EHLO c.test")
        client.send(b"STARTTLS\r\nMAIL FROM:<evil@example.test>\r\nNOOP\r\n")
        reply = client.read_reply()
        if policy == "reject":
            assert (reply.code, reply.lines[0]) == (554, "5.5.1 Error: commands pipelined after STARTTLS")
            assert client.is_closed()
        else:
            assert reply.code == 220
            assert client.buf == b""  # nothing answered in plain text
            raw_starttls(client, client_context(pki))
            # the injected MAIL was dropped: no transaction exists, so RCPT needs MAIL first
            assert client.cmd("EHLO c.test").code == 250
            assert client.cmd("RCPT TO:<postmaster>").code == 503
        client.close()
    assert all(s.vctx.conn.get("starttls_injection") == "true" for s in srv.sessions)


def test_protocol_floor_refuses_older_clients_and_sessions_continue(pki, tmp_path):
    settings = lambda peer: tls_settings(pki, tls_protocols="TLSv1.3")  # noqa: E731
    with SessionServer(tmp_path, settings) as srv:
        client = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        client.ehlo()
        old = client_context(pki, maximum_version=ssl.TLSVersion.TLSv1_2)
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
            client.starttls(context=old)
        client.close()
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as good:
            good.starttls(context=client_context(pki))
            assert good.sock.version() == "TLSv1.3"
            assert good.noop()[0] == 250
    assert srv.sessions[0].vctx.conn.get("tls_failed") == "true"


def test_tls12_only_server_negotiates_tls12(pki, tmp_path):
    with SessionServer(tmp_path, lambda peer: tls_settings(pki, tls_protocols="+TLSv1.2")) as srv:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.starttls(context=client_context(pki))
            assert client.sock.version() == "TLSv1.2"


def test_garbage_instead_of_a_handshake_closes_cleanly(pki, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ecelerity")
    with SessionServer(tmp_path, lambda peer: tls_settings(pki)) as srv:
        client = RawClient(srv.port)
        client.read_reply()
        client.cmd("EHLO c.test")
        assert client.cmd("STARTTLS").code == 220
        client.send(b"EHLO this is not a TLS ClientHello\r\n" * 4)
        assert client.is_closed()
        client.close()
        again = RawClient(srv.port)
        assert again.read_reply().code == 220
        again.close()
    assert "Traceback" not in caplog.text
    assert "TLS handshake with 127.0.0.1" in caplog.text


def _client_cert_settings(pki, **extra):
    return lambda peer: tls_settings(pki, tls_client_ca=str(pki.ca_cert), tls_verify_mode="require",
                                     **extra)


def test_required_client_certificate(pki, tmp_path):
    with SessionServer(tmp_path, _client_cert_settings(pki)) as srv:
        anonymous = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        anonymous.ehlo()
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
            anonymous.starttls(context=client_context(pki))
            anonymous.noop()  # TLS 1.3: the refusal arrives after the client's Finished
        anonymous.close()
        ctx = client_context(pki)
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.starttls(context=ctx)
            client.ehlo()
            assert client.mail("a@example.test")[0] == 250
            assert client.rcpt("b@elsewhere.test")[0] == 550  # verified, but may not relay
    conn = srv.sessions[-1].vctx.conn
    assert conn["tls_client_verified"] == "yes"
    assert conn["tls_client_cert_subject_cn"] == "test-client"
    assert conn["tls_client_cert_issuer_cn"] == "ecelerity test ca"


def test_verified_peer_can_relay(pki, tmp_path):
    with SessionServer(tmp_path, _client_cert_settings(pki, tls_verified_peer_can_relay=True)) as srv:
        ctx = client_context(pki)
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.starttls(context=ctx)
            client.ehlo()
            client.mail("a@example.test")
            assert client.rcpt("b@elsewhere.test")[0] == 250


def test_optional_client_certificate_allows_anonymous_clients(pki, tmp_path):
    settings = lambda peer: tls_settings(pki, tls_client_ca=str(pki.ca_cert))  # noqa: E731
    with SessionServer(tmp_path, settings) as srv:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.starttls(context=client_context(pki))
            assert client.noop()[0] == 250
    assert "tls_client_verified" not in srv.sessions[0].vctx.conn


def test_implicit_tls_handshake_before_the_banner(pki, tmp_path):
    """use_ssl: start_implicit_tls wraps the socket before any SMTP is spoken."""
    with SessionServer(tmp_path, lambda peer: tls_settings(pki, use_ssl=True)) as srv:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        tls_sock = client_context(pki).wrap_socket(sock, server_hostname="localhost")
        client = RawClient.__new__(RawClient)
        client.sock, client.buf = tls_sock, b""
        assert client.read_reply().code == 220
        reply = client.cmd("EHLO c.test")
        assert "STARTTLS" not in reply.lines
        client.close()
