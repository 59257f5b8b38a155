"""live_message.LiveMessage: the model-free header path gives exactly what the model gives.

The fast path (header reads scanned from the header block, appended headers kept as
ready-made fields) must be indistinguishable from core.message.Message: same values,
same bytes once committed; every other edit goes through the model, in order."""
from __future__ import annotations

import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.message import Message
from ecelerity.policy.lua.live_message import LiveMessage, header_values
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

TRACE = b"Received: from c.example by mx.example;\r\n\tThu, 1 Jan 2026 00:00:00 +0000\r\n"
RAW = (b"From: Alice <a@b.example>\r\n"
       b"Subject: =?utf-8?q?R=C3=A9union?= =?utf-8?q?_lundi?=\r\n"
       b"X-Folded: first part\r\n\tsecond part\r\n"
       b"subject: a second one\r\n"
       b"X-Raw-8bit: caf\xc3\xa9\r\n"
       b"To: c@d.example\r\n\r\nbody line\r\n")


def inbound(raw: bytes = RAW, trace: bytes = TRACE) -> InboundMessage:
    message = InboundMessage(Envelope(mail_from="a@b.example", recipients=[Recipient("c@d.example")]),
                             "00/00-1-A", split_message(raw))
    message.trace = trace
    return message


@pytest.mark.parametrize("name", ["Subject", "SUBJECT", "x-folded", "Received", "X-Raw-8bit",
                                  "To", "Missing", "X-Folde"])
def test_header_reads_match_the_message_model(name):
    message = inbound()
    assert LiveMessage(ValidationContext(), message).header(name) == \
        Message(message.data()).header(name)
    assert header_values(message.trace + message.header_block + message.separator, name) == \
        Message(message.data()).headers.get_all(name)


@pytest.mark.parametrize("raw,trace", [(RAW, TRACE), (RAW, b""),
                                       (RAW.replace(b"\r\n", b"\n"), b"")])
def test_appended_headers_commit_to_the_bytes_the_model_would_render(raw, trace):
    message = inbound(raw, trace)
    expected = Message(message.data())
    expected.headers.append("X-Policy", "sender=b.example")
    expected.headers.append("X-Cafe-Free", "caf\u00e9 cr\u00e8me")
    msg = LiveMessage(ValidationContext(), message)
    msg.header_add("X-Policy", "sender=b.example")
    msg.header_add("X-Cafe-Free", "caf\u00e9 cr\u00e8me")
    assert msg._model is None  # the fast path: nothing was parsed
    assert msg.header("x-policy") == ["sender=b.example"]  # seen at once, before commit
    assert msg.header("X-Cafe-Free") == ["caf\u00e9 cr\u00e8me"]
    assert msg.commit() is True and msg.commit() is False
    assert message.data() == expected.render()


def test_a_bad_header_name_is_refused_at_once_like_the_model_does():
    msg = LiveMessage(ValidationContext(), inbound())
    with pytest.raises(ValueError, match="invalid header name"):
        msg.header_add("Bad Name", "x")


def test_appends_then_model_edits_keep_their_order():
    message = inbound()
    expected = Message(message.data())
    expected.headers.append("X-A", "1")
    expected.headers.prepend("X-B", "2")
    expected.headers.delete("To")
    expected.headers.append("X-C", "3")
    msg = LiveMessage(ValidationContext(), message)
    msg.header_add("X-A", "1")
    msg.header_add("X-B", "2", "prepend")  # needs the model: X-A is moved into it first
    assert msg.header_delete("To") is True
    msg.header_add("X-C", "3")
    assert msg.header("X-A") == ["1"] and msg.header("to") == []
    msg.commit()
    assert message.data() == expected.render()
    assert message.trace == b"" and message.header_block.startswith(b"X-B: 2\r\nReceived:")


def test_body_edits_commit_through_the_model_and_split_like_the_session_does():
    message = inbound()
    msg = LiveMessage(ValidationContext(), message)
    msg.set_body(b"new body\r\n")
    msg.header_add("X-After", "body")
    msg.commit()
    rendered = TRACE + RAW.split(b"\r\n\r\n")[0] + b"\r\nX-After: body\r\n\r\nnew body\r\n"
    assert message.data() == rendered
    parts = split_message(rendered)
    assert (message.header_block, message.separator, message.body) == \
        (parts.header_block, parts.separator, parts.body)


def test_a_message_without_an_empty_line_uses_the_model():
    message = inbound(b"Subject: only headers\r\n", b"")
    msg = LiveMessage(ValidationContext(), message)
    assert msg.header("Subject") == ["only headers"]
    msg.header_add("X-New", "v")
    assert msg._model is not None  # no separator: the model decides where headers end
    msg.commit()
    expected = Message(b"Subject: only headers\r\n")
    expected.headers.append("X-New", "v")
    assert message.data() == expected.render()


def test_next_phase_drops_uncommitted_state_and_sees_the_new_bytes():
    message = inbound(trace=b"")
    msg = LiveMessage(ValidationContext(), None, phase="rcptto")
    assert msg.header("Subject") == []  # before DATA: the envelope only
    msg.next_phase(message, None, "data")
    assert msg.header("Subject")[0] == "R\u00e9union lundi"
    msg.header_add("X-Lost", "never committed")
    message.trace = TRACE  # the session adds its Received: line between phases
    msg.next_phase(message, Recipient("c@d.example"), "data_spool_each_rcpt")
    assert msg.header("X-Lost") == [] and msg.header("Received")[0].startswith("from c.example")
    assert msg.rcptto() == "c@d.example" and msg.code is None
