"""dkim/verifier.py: libopendkim-style statuses for every signature, keys through DnsResolver."""
from __future__ import annotations

import pytest

from ecelerity.delivery.dns import DnsResolver
from ecelerity.dkim import verifier
from ecelerity.dkim.signer import SignRequest, sign
from tests.helpers.dns_server import start_dns
from tests.helpers.opendkim import genkey

MESSAGE = (b"From: a@one.test\r\nTo: b@dest.test\r\nSubject: s\r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    base = tmp_path_factory.mktemp("keys")
    return genkey(base, "one.test", "s1"), genkey(base, "two.test", "s2")


@pytest.fixture(scope="module")
def lookup(keys):
    with start_dns(raw=[keys[0].dns_raw, keys[1].dns_raw]) as server:
        yield verifier.txt_from_resolver(DnsResolver(nameserver=server.address, timeout=2.0))


def _sign(message: bytes, key, **kw) -> bytes:
    return sign(message, SignRequest(key.domain, key.selector, key.private.read_bytes(), **kw)) + message


def test_each_signature_is_reported_top_first(keys, lookup):
    signed = _sign(_sign(MESSAGE, keys[0], identity="a@one.test"), keys[1], body_canon="simple")
    result = verifier.verify_message(signed, lookup)
    assert [(s.domain, s.selector, s.status) for s in result.signatures] == [
        ("two.test", "s2", verifier.STAT_OK), ("one.test", "s1", verifier.STAT_OK)]
    top, second = result.signatures
    assert (top.header_canon, top.body_canon, top.algorithm) == ("relaxed", "simple", "rsa-sha256")
    assert (top.identity, second.identity) == ("@two.test", "a@one.test")


def test_a_selector_without_a_key_record_is_nokey(keys, lookup):
    signed = _sign(MESSAGE, keys[0]).replace(b"s=s1;", b"s=gone;")
    result = verifier.verify_message(signed, lookup)
    assert result.status == verifier.STAT_NOKEY and result.summary == "permerror"
    assert result.signatures[0].error


def test_an_unreachable_dns_server_is_keyfail(keys):
    dead = DnsResolver(nameserver=("127.0.0.1", 9), timeout=0.2, attempts=1)
    result = verifier.verify_message(_sign(MESSAGE, keys[0]), verifier.txt_from_resolver(dead))
    assert result.status == verifier.STAT_KEYFAIL and result.summary == "temperror"


def test_an_unsigned_message_is_nosig(lookup):
    result = verifier.verify_message(MESSAGE, lookup)
    assert (result.status, result.summary, result.signatures) == (verifier.STAT_NOSIG, "none", [])


def test_a_changed_signed_header_is_badsig(keys, lookup):
    signed = _sign(MESSAGE, keys[0]).replace(b"Subject: s", b"Subject: t")
    result = verifier.verify_message(signed, lookup)
    assert result.status == verifier.STAT_BADSIG
    assert result.signatures[0].flags & verifier.SIGFLAG_PASSED == 0
