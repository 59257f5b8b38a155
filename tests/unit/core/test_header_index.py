"""core/header_index.py: same values as core.headers, one scan, never a stale read."""
from __future__ import annotations

import glob
import os

from ecelerity.core.header_index import HeaderIndex, for_headers, for_inbound
from ecelerity.core.headers import Headers
from ecelerity.core.message import Message
from ecelerity.core.envelope import Envelope
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

CORPUS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "corpus", "*.eml")))
RAW = (b"From: a@b.example\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nX-Folded: one\r\n\ttwo\r\n"
       b"subject: second\r\nReceived: r1\r\n\r\nbody\r\n")


def test_values_match_core_headers_on_the_whole_corpus():
    assert CORPUS
    for path in CORPUS:
        with open(path, "rb") as handle:
            raw = handle.read()
        headers, body_start, _sep = Headers.parse(raw)
        from_bytes, from_fields = HeaderIndex.of_block(raw[:body_start]), HeaderIndex.of_headers(headers)
        assert from_bytes.names() == headers.names() == from_fields.names()
        for name in set(headers.names()) | {"X-Absent"}:
            key = name.lower()
            want = headers.get_all(name)
            assert from_bytes.values(key) == want == from_fields.values(key), (path, name)
            assert from_bytes.raw_values(key) == headers.get_raw(name) == from_fields.raw_values(key)
            assert from_bytes.first(key) == headers.get(name)
            assert from_bytes.has(key) == (name in headers) and from_bytes.count(key) == len(want)


def test_case_insensitive_folded_and_decoded():
    index = HeaderIndex.of_block(RAW)
    assert index.values("subject") == ["café", "second"]
    assert index.values("x-folded") == ["one\ttwo"] == Headers.parse(RAW)[0].get_all("X-Folded") and index.first("x-absent", "d") == "d"
    assert index.values("subject") is index.values("subject")  # decoded once


def test_message_reads_see_every_kind_of_edit():
    msg = Message(RAW)
    assert msg.header("SUBJECT") == ["café", "second"] and msg.get("from") == "a@b.example"
    msg.header("subject").append("not shared")  # a caller's list is its own
    assert msg.header("Subject") == ["café", "second"]
    msg.headers.append("Subject", "third")
    assert msg.header("subject") == ["café", "second", "third"]
    msg.headers.delete("SUBJECT")
    assert msg.header("subject") == [] and msg.get("Subject") is None
    msg.headers.prepend("X-New", "p")
    msg.headers.replace("From", "c@d.example")
    assert msg.get("x-new") == "p" and msg.header("From") == ["c@d.example"]
    msg.mime().headers.append("X-Via-Mime", "m")  # the MIME root shares the block
    assert msg.header("x-via-mime") == ["m"]
    msg.set_text("hello")
    assert msg.get("content-type") == 'text/plain; charset="utf-8"'
    msg.replace_raw(b"Subject: whole new\r\n\r\nx\r\n")
    assert msg.header("subject") == ["whole new"] and msg.get("From") is None


def test_an_in_place_field_change_that_bumps_version_is_seen():
    msg = Message(RAW)
    assert msg.get("received") == "r1"
    field = msg.headers.fields("Received")[0]
    field.raw = b"Received: r2\r\n"  # as smtp/long_lines.py refolds, then bumps version
    msg.headers.version += 1
    assert msg.get("received") == "r2"


def test_for_headers_keys_on_the_object_and_its_version():
    class Holder:
        pass
    holder, headers = Holder(), Headers.parse(RAW)[0]
    first = for_headers(holder, headers)
    assert for_headers(holder, headers) is first
    headers.append("X-A", "1")
    assert for_headers(holder, headers) is not first and for_headers(holder, headers).has("x-a")
    other = Headers.parse(RAW)[0]
    assert not for_headers(holder, other).has("x-a")


def test_inbound_index_is_rebuilt_whenever_the_bytes_change():
    parts = split_message(RAW)
    inbound = InboundMessage(Envelope(mail_from="a@b.example", recipients=[]), "id", parts)
    index = for_inbound(inbound)
    assert for_inbound(inbound) is index and index.values("received") == ["r1"]
    inbound.trace = b"Received: from the session\r\n"
    assert for_inbound(inbound).values("received") == ["from the session", "r1"]
    inbound.header_block += b"X-Added: yes\r\n"
    assert for_inbound(inbound).values("x-added") == ["yes"]
    inbound.header_block = bytearray(inbound.header_block)  # mutable: never cached
    first = for_inbound(inbound)
    inbound.header_block += b"X-More: 1\r\n"
    assert for_inbound(inbound) is not first and for_inbound(inbound).values("x-more") == ["1"]


def test_malformed_blocks_never_raise():
    for raw in (b"", b"no colon here\r\n\r\n", b"\r\n", b"A: 1\nB: =?bogus?x?zz?=\n", b"\x00\xff: v\r\n"):
        index = HeaderIndex.of_block(raw)
        assert index.values("a") in ([], ["1"]) and isinstance(index.names(), list)
        index.values("b")
