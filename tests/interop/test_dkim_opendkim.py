"""Our DKIM against the real OpenDKIM library (opendkim-testmsg from opendkim-tools).

Both ways: what ecelerity.dkim signs, opendkim verifies (keys from opendkim-genkey in
DNS served by dnsmasq); what opendkim signs, ecelerity.dkim verifies with key lookups
through delivery/dns.py's DnsResolver against dnsmasq. A changed body fails both ways.
"""
from __future__ import annotations

import pytest

from ecelerity.delivery.dns import DnsResolver
from ecelerity.dkim import verifier
from ecelerity.dkim.signer import SignRequest, sign
from tests.helpers.dns_server import start_dns
from tests.helpers.opendkim import genkey, opendkim_sign, opendkim_verify

MESSAGE = (b"From: Alice <alice@example.test>\r\nTo: bob@dest.test\r\n"
           b"Subject:   spaced    subject\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"Message-ID: <1@example.test>\r\n\r\nHello Bob,  \r\n\r\nbody line two\r\n\r\n")


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return genkey(tmp_path_factory.mktemp("keys"), "example.test", "s1")


@pytest.fixture(scope="module")
def dns(key):
    with start_dns(raw=[key.dns_raw]) as server:
        yield server


def _ours(message: bytes, key, header: str, body: str) -> bytes:
    request = SignRequest("example.test", "s1", key.private.read_bytes(), header, body,
                          ("from", "to", "subject", "date", "message-id"))
    return sign(message, request) + message


@pytest.mark.parametrize("header, body", [("relaxed", "relaxed"), ("simple", "simple"),
                                          ("relaxed", "simple"), ("simple", "relaxed")])
def test_opendkim_verifies_what_we_sign(key, header, body):
    signed = _ours(MESSAGE, key, header, body)
    assert f"c={header}/{body}".encode() in signed
    code, err = opendkim_verify(signed, [key])
    assert code == 0, err


def test_opendkim_rejects_our_signature_once_the_body_changed(key):
    signed = _ours(MESSAGE, key, "relaxed", "relaxed").replace(b"Hello Bob", b"Hello Eve")
    code, err = opendkim_verify(signed, [key])
    assert code != 0 and "Bad signature" in err


def test_we_verify_what_opendkim_signs(key, dns):
    signed = opendkim_sign(MESSAGE, key)
    result = verifier.verify_message(signed, verifier.txt_from_resolver(
        DnsResolver(nameserver=dns.address, timeout=2.0)))
    assert result.status == verifier.STAT_OK and result.summary == "pass"
    (sig,) = result.signatures
    assert (sig.domain, sig.selector, sig.keysize) == ("example.test", "s1", 1024)
    assert "from" in sig.signed_headers and sig.flags & verifier.SIGFLAG_PASSED


def test_we_reject_an_opendkim_signature_once_the_body_changed(key, dns):
    signed = opendkim_sign(MESSAGE, key).replace(b"body line two", b"body line 2")
    result = verifier.verify_message(signed, verifier.txt_from_resolver(
        DnsResolver(nameserver=dns.address, timeout=2.0)))
    assert result.status == verifier.STAT_BADSIG and result.summary == "fail"
    assert "body hash mismatch" in result.signatures[0].error
