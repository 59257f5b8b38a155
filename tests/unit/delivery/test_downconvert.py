"""ecelerity/delivery/downconvert.py: 8-bit parts become quoted-printable/base64, the
rest of the message is byte-identical, and Python's email package decodes the result
back to the original content."""
from __future__ import annotations

import email
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.delivery.downconvert import ConversionFailed, downconvert

MULTIPART = (
    b"From: a@src.test\r\nTo: b@dst.test\r\nSubject: plain ascii\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"XX\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"preamble\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xc3\xa9 = cr\xc3\xa8me\r\nline two \r\n"
    b"--XX\r\nContent-Type: text/plain\r\n\r\nascii only part\r\n"
    b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    b"\x00\x01\xff\xfe binary\r\n--XX--\r\nepilogue\r\n")


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.compat32)


def test_multipart_parts_are_converted_and_the_rest_kept_verbatim():
    out = downconvert(MULTIPART, "ifneeded")
    assert out.isascii()
    message = parse(out)
    text, ascii_part, binary = message.get_payload()
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    # the CRLF before a boundary belongs to the delimiter; the trailing space survives
    assert text.get_payload(decode=True) == b"caf\xc3\xa9 = cr\xc3\xa8me\r\nline two "
    assert ascii_part.get_payload(decode=True) == b"ascii only part"
    assert binary["Content-Transfer-Encoding"] == "base64"
    assert binary.get_payload(decode=True) == b"\x00\x01\xff\xfe binary"
    assert message["Content-Transfer-Encoding"] == "7bit"
    assert message["Subject"] == "plain ascii" and message.get_content_type() == "multipart/mixed"
    assert out.startswith(b"From: a@src.test\r\nTo: b@dst.test\r\nSubject: plain ascii\r\n")
    assert b"preamble\r\n--XX\r\n" in out and out.endswith(b"--XX--\r\nepilogue\r\n")
    assert b"--XX\r\nContent-Type: text/plain\r\n\r\nascii only part\r\n" in out


def test_single_part_text_and_ascii_message_untouched():
    body = b"Subject: hi\r\nContent-Type: text/plain; charset=latin-1\r\n\r\nna\xefve\r\n"
    out = downconvert(body, "ifneeded")
    message = parse(out)
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message.get_payload(decode=True) == b"na\xefve\r\n"
    plain = b"Subject: hi\r\n\r\nascii\r\n"
    assert downconvert(plain, "strict") is plain


def test_strict_refuses_8bit_headers_ifneeded_sends_them_strip_clears_the_high_bit():
    data = b"Subject: caf\xc3\xa9\r\n\r\nbody \xc3\xa9\r\n"
    with pytest.raises(ConversionFailed, match="headers"):
        downconvert(data, "strict")
    relaxed = downconvert(data, "ifneeded")
    assert relaxed.startswith(b"Subject: caf\xc3\xa9\r\n")
    assert parse(relaxed).get_payload(decode=True) == b"body \xc3\xa9\r\n"
    stripped = downconvert(data, "strip")
    assert stripped.isascii() and len(stripped) == len(data)
    assert stripped == bytes(b & 0x7F for b in data)
    assert downconvert(data, "no") is data


def test_nested_message_rfc822_is_converted_inside():
    inner = b"Subject: inner\r\nContent-Type: text/plain\r\n\r\n\xe2\x82\xac 5\r\n"
    outer = (b"Subject: outer\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n"
             b"Content-Transfer-Encoding: 8bit\r\n\r\n" + inner)
    out = downconvert(outer, "strict")
    assert out.isascii()
    message = parse(out)
    assert message["Content-Transfer-Encoding"] == "7bit"
    [nested] = message.get_payload()
    assert nested["Subject"] == "inner"
    assert nested.get_payload(decode=True) == b"\xe2\x82\xac 5\r\n"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=120).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
                min_size=1, max_size=8))
def test_any_8bit_text_round_trips_through_quoted_printable(lines):
    content = b"\r\n".join(lines) + b"\r\n"
    data = b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + content
    out = downconvert(data, "strict")
    assert out.isascii()
    assert all(len(line) <= 78 for line in out.split(b"\r\n"))
    decoded = parse(out).get_payload(decode=True)
    assert decoded.replace(b"\r\n", b"\n") == content.replace(b"\r\n", b"\n")
