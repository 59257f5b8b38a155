"""The address side of a message view: policy/sieve/message_addresses.py (mixed into MessageView)."""
from __future__ import annotations

from ecelerity.policy.sieve.message_view import MessageView

RAW = (b"From: Some One <some.one+tag@Example.COM>\r\nTo: a@x.example, \"B\" <b@y.example>\r\n"
       b"Subject: hi\r\n\r\nbody\r\n")


def test_addresses_and_their_parts_per_field():
    view = MessageView(RAW)
    assert view.addresses("TO") == ["a@x.example", "b@y.example"]
    assert view.address_part_values("from", "localpart") == ["some.one+tag"]
    assert view.address_part_values("from", "detail") == ["tag"]
    assert view.address_part_values("from", "domain") == ["Example.COM"]
    assert view.address_values("cc") == []


def test_an_edit_refreshes_the_cached_addresses_of_that_field_only():
    view = MessageView(RAW)
    assert view.address_part_values("to", "domain") == ["x.example", "y.example"]
    from_before = view.address_values("from")
    view.edit_header("replace", "To", "c@z.example")
    assert view.address_part_values("to", "domain") == ["z.example"]
    assert view.address_values("from") is from_before


def test_envelope_parts_follow_the_envelope_and_the_null_sender():
    view = MessageView(RAW, "", "r+x@rcpt.example")
    assert view.envelope_part_values("from", "all") == [""]
    assert view.envelope_part_values("from", "domain") == []
    assert view.envelope_part_values("to", "detail") == ["x"]
    view.envelope["to"] = "<other@else.example>"
    assert view.envelope_part_values("to", "domain") == ["else.example"]
    assert view.envelope_part_values("auth", "all") == []
