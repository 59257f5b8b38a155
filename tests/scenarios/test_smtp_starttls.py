"""STARTTLS and SMTPS against the real listener process: configured from a file, bodies read back."""
from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl

import pytest

from tests.helpers.certs import make_pki
from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

BODY = b"first line\r\n.leading dot\r\n\xc3\xa9t\xc3\xa9 8bit\r\n"
MESSAGE = b"From: a@example.test\r\nSubject: over TLS\r\n\r\n" + BODY


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("starttls"))


def conf(pki, listener_extra: str = "") -> str:
    return f'''
ESMTP_Listener {{
  tls_certificate = "{pki.server_cert}"
  tls_key = "{pki.server_key}"
  {listener_extra}
  Listen "127.0.0.1:0" {{ }}
  Listen "127.0.0.2:0" {{ use_ssl = true }}
}}
'''


def verifying(pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_cert))


def test_smtplib_starttls_and_smtps_messages_arrive_byte_exact(pki, tmp_path):
    with smtp_listener(tmp_path, conf(pki)) as lst:
        with smtplib.SMTP("127.0.0.1", lst.listens["127.0.0.1:0"][1], timeout=10) as client:
            client.ehlo("client.test")
            assert client.has_extn("starttls")
            assert client.starttls(context=verifying(pki))[0] == 220
            client.ehlo("client.test")
            assert not client.has_extn("starttls")
            client.sendmail("a@example.test", ["postmaster"], MESSAGE)
        port = lst.listens["127.0.0.2:0"][1]
        with smtplib.SMTP_SSL("127.0.0.2", port, timeout=10, context=verifying(pki)) as client:
            assert client.ehlo("client.test")[0] == 250
            assert not client.has_extn("starttls")
            client.sendmail("b@example.test", ["postmaster"], MESSAGE)
    stored = read_spool(lst.spool_dir)
    assert [env["mail_from"] for env, _, _ in stored] == ["a@example.test", "b@example.test"]
    for env, data, _ in stored:
        assert env["protocol"] == "esmtps"
        assert env["conn_context"]["tls"] == "yes"
        assert hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).digest() == hashlib.sha256(BODY).digest()


def test_starttls_injection_is_refused_by_default(pki, tmp_path):
    with smtp_listener(tmp_path, conf(pki)) as lst:
        client = RawClient(lst.port)
        client.read_reply()
        client.cmd("EHLO c.test")
        client.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@example.test>\r\n")
        reply = client.read_reply()
        assert (reply.code, reply.lines[0]) == (554, "5.5.1 Error: commands pipelined after STARTTLS")
        assert client.is_closed()
        client.close()


def test_injection_policy_other_than_reject_discards_the_plaintext(pki, tmp_path):
    with smtp_listener(tmp_path, conf(pki, 'starttls_injection_policy = "ignore"')) as lst:
        client = RawClient(lst.port)
        client.read_reply()
        client.cmd("EHLO c.test")
        client.send(b"STARTTLS\r\nMAIL FROM:<evil@example.test>\r\n")
        assert client.read_reply().code == 220
        client.sock = verifying(pki).wrap_socket(client.sock, server_hostname="localhost")
        client.buf = b""
        client.cmd("EHLO c.test")
        assert client.cmd("RCPT TO:<postmaster>").code == 503  # the injected MAIL never ran
        client.close()


def test_failed_handshake_leaves_the_listener_serving(pki, tmp_path):
    with smtp_listener(tmp_path, conf(pki, 'tls_protocols = "TLSv1.3"')) as lst:
        old = verifying(pki)
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with socket.create_connection(("127.0.0.2", lst.listens["127.0.0.2:0"][1]), timeout=10) as raw:
                old.wrap_socket(raw, server_hostname="localhost").recv(1)
        with smtplib.SMTP("127.0.0.1", lst.port, timeout=10) as client:
            client.starttls(context=verifying(pki))
            assert client.sock.version() == "TLSv1.3"
        assert lst.proc.poll() is None
