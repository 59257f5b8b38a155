"""Tests for ecelerity/core/envelope.py: the envelope model and its spool serialisation."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.envelope import Envelope, Recipient


def full_envelope() -> Envelope:
    return Envelope(
        mail_from="sender@example.org",
        recipients=[Recipient("a@Example.COM", notify="SUCCESS,FAILURE",
                              orcpt="rfc822;a@example.com"), Recipient("b@example.net")],
        ret="HDRS", envid="QQ314159", body_type="8BITMIME", smtputf8=True, declared_size=2048,
        auth_user="alice", helo="client.example.org", peer_ip="192.0.2.7", peer_port=40123,
        local_addr="127.0.0.1:2525", protocol="esmtps",
        conn_context={"pathway": "default"}, mess_context={"mailfrom_domain": "example.org"},
        binding="outbound", binding_group="pool", conn_id="10/00-02001-C6DD1CA4",
        received_at=1700000000.25)


def test_round_trip_through_json_keeps_every_field():
    envelope = full_envelope()
    assert Envelope.from_dict(json.loads(json.dumps(envelope.to_dict()))) == envelope


def test_defaults_and_independent_context_dicts():
    first, second = Envelope("a@b", []), Envelope("c@d", [])
    first.conn_context["x"] = "1"
    assert second.conn_context == {}
    assert first.protocol == "esmtp" and first.peer_port == 0 and first.received_at == 0.0


def test_recipient_domain_is_lowercased():
    assert Recipient("User@Example.COM").domain == "example.com"
    assert Recipient("postmaster").domain == ""
    assert Recipient('"a@b"@Host.Example').domain == "host.example"


def test_unknown_keys_are_ignored_for_forward_compatibility():
    data = full_envelope().to_dict()
    data["added_in_a_later_version"] = [1, 2]
    assert Envelope.from_dict(data) == full_envelope()


@pytest.mark.parametrize("key, value, message", [
    ("mail_from", None, "envelope.mail_from"),
    ("recipients", "a@b", "envelope.recipients"),
    ("peer_port", "25", "envelope.peer_port"),
    ("smtputf8", "yes", "envelope.smtputf8"),
    ("declared_size", True, "envelope.declared_size"),
    ("conn_context", {"a": 1}, "envelope.conn_context"),
    ("recipients", [{"notify": "NEVER"}], "recipient.address"),
    ("recipients", [["a@b"]], "recipient"),
])
def test_bad_fields_raise_value_error_naming_the_field(key, value, message):
    data = full_envelope().to_dict()
    data[key] = value
    with pytest.raises(ValueError, match=message):
        Envelope.from_dict(data)


def test_missing_sender_is_an_error():
    data = full_envelope().to_dict()
    del data["mail_from"]
    with pytest.raises(ValueError, match="envelope.mail_from: missing"):
        Envelope.from_dict(data)


def test_non_object_is_an_error():
    with pytest.raises(ValueError, match="expected an object"):
        Envelope.from_dict(["not", "a", "dict"])


text = st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.builds(
    Envelope, mail_from=text,
    recipients=st.lists(st.builds(Recipient, address=text, notify=st.none() | text,
                                  orcpt=st.none() | text), max_size=5),
    ret=st.none() | text, declared_size=st.none() | st.integers(0, 2**40),
    peer_port=st.integers(0, 65535), smtputf8=st.booleans(),
    conn_context=st.dictionaries(text, text, max_size=4),
    mess_context=st.dictionaries(text, text, max_size=4),
    received_at=st.floats(0, 2e9)))
def test_any_envelope_round_trips(envelope):
    assert Envelope.from_dict(json.loads(json.dumps(envelope.to_dict()))) == envelope
