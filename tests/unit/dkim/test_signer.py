"""dkim/signer.py: the responsible domain, and what dkimpy is asked to sign."""
from __future__ import annotations

import pytest

from ecelerity.dkim.signer import SigningError, SignRequest, responsible_domain, sign
from tests.helpers.opendkim import genkey


@pytest.mark.parametrize("block, domain", [
    (b"From: A <a@Example.TEST>\r\n", "example.test"),
    (b"From: a@from.test\r\nSender: s@sender.test\r\n", "sender.test"),
    (b"From: \"x@y\" <real@r.test>,\r\n b@other.test\r\n", "r.test"),
    (b"Subject: none\r\n", ""),
])
def test_responsible_domain_is_sender_else_from(block, domain):
    assert responsible_domain(block) == domain


def test_from_is_always_signed_even_when_the_list_forgets_it(tmp_path):
    key = genkey(tmp_path, "a.test", "s1")
    field = sign(b"From: a@a.test\r\nTo: b@b.test\r\n\r\nx\r\n",
                 SignRequest("a.test", "s1", key.private.read_bytes(), headerlist=("to",)))
    assert field.startswith(b"DKIM-Signature: ") and field.endswith(b"\r\n")
    assert b"h=from : to" in field or b"h=from:to" in field


def test_a_bad_key_is_a_signing_error_naming_domain_and_selector():
    with pytest.raises(SigningError, match="d=a.test s=s1"):
        sign(b"From: a@a.test\r\n\r\nx\r\n", SignRequest("a.test", "s1", b"garbage"))
