"""RFC 5321 path syntax: smtp/address.py."""
from __future__ import annotations

import pytest

from ecelerity.smtp.address import AddressError, parse_mailbox, parse_path, strip_source_route


@pytest.mark.parametrize("text, local, domain, literal", [
    ("user@example.com", "user", "example.com", False),
    ("first.last+tag@sub.example.com", "first.last+tag", "sub.example.com", False),
    ('"john doe"@example.com', '"john doe"', "example.com", False),
    ('"a@b"@example.com', '"a@b"', "example.com", False),
    ('"quote\\"d"@example.com', '"quote\\"d"', "example.com", False),
    ("user%other.test@example.com", "user%other.test", "example.com", False),
    ("user@[192.0.2.1]", "user", "[192.0.2.1]", True),
    ("user@[IPv6:2001:db8::1]", "user", "[IPv6:2001:db8::1]", True),
])
def test_valid_mailboxes(text, local, domain, literal):
    box = parse_mailbox(text)
    assert (box.local, box.domain, box.is_ip_literal) == (local, domain, literal)
    assert box.address == text


@pytest.mark.parametrize("text", [
    "user", "@example.com", "user@", "a@b@c", "us er@example.com", ".user@example.com",
    "user.@example.com", "a..b@example.com", "user@-bad.com", "user@bad-.com", "user@exa_mple.com",
    "user@[999.1.1.1]", "user@[IPv6:zz::1]", "user@[192.0.2.1", '"unterminated@example.com',
    '"x"y@example.com', "jörg@example.com", "user@" + "a" * 64 + ".com", "x" * 65 + "@example.com",
])
def test_invalid_mailboxes_pedantic(text):
    with pytest.raises(AddressError):
        parse_mailbox(text)


@pytest.mark.parametrize("text", [".user@example.com", "a..b.@example.com", "user@exa_mple.com",
                                  "user@example.com."])
def test_relaxed_rules_accept_common_sloppiness(text):
    assert parse_mailbox(text, pedantic=False).address == text


def test_smtputf8_addresses_need_utf8_mode():
    with pytest.raises(AddressError):
        parse_mailbox("jörg@bücher.example")
    box = parse_mailbox("jörg@bücher.example", utf8=True)
    assert (box.local, box.domain, box.is_ascii) == ("jörg", "bücher.example", False)


def test_null_path_and_postmaster():
    assert parse_path("") is None
    with pytest.raises(AddressError):
        parse_path("postmaster")
    assert parse_path("Postmaster", allow_postmaster=True).domain == ""


def test_source_route_is_stripped():
    box = parse_path("@a.example,@b.example:user@c.example")
    assert (box.address, box.source_route) == ("user@c.example", "@a.example,@b.example")
    assert strip_source_route("user@c") == ("user@c", None)
    for bad in ("@a.example", "@a.example,b:user@c", "@:user@c"):
        with pytest.raises(AddressError):
            parse_path(bad)
