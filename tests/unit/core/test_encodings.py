"""Transfer decoding, charset fallback, RFC 2047 words, incremental decoding."""

from __future__ import annotations

import base64
import binascii
import email.header

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.encodings import (
    IncrementalTransferDecoder,
    decode_base64,
    decode_header_words,
    decode_text,
    decode_transfer,
    encode_header_words,
    encode_text_body,
)


def test_base64_is_tolerant_and_reports_defects():
    assert decode_base64(b"SGVs\r\nbG8=\r\n") == (b"Hello", [])
    data, defects = decode_base64(b"SGVs!bG8")
    assert data == b"Hello" and defects == ["invalid characters in base64 data"]
    assert decode_base64(b"SGVsbG8gd")[1] == ["base64 data has an impossible length"]


def test_transfer_encodings():
    assert decode_transfer(b"caf=C3=A9 =\r\nx", "Quoted-Printable") == (b"caf\xc3\xa9 x", [])
    assert decode_transfer(b"raw\xff", "8bit") == (b"raw\xff", [])
    assert decode_transfer(b"raw", None) == (b"raw", [])
    assert decode_transfer(b"raw", "x-uuencode")[1] == ["unknown content-transfer-encoding 'x-uuencode'"]


def test_charset_conversion_and_fallback():
    assert decode_text(b"caf\xe9", "ISO-8859-1") == "caf\u00e9"
    assert decode_text(b"caf\xc3\xa9", "no-such-charset") == "caf\u00e9"
    assert decode_text(b"caf\xe9", None) == "caf\ufffd"


def test_header_words_decode():
    value = "=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?b?TfxuY2hlbg==?= plain =?bogus?q?x?="
    assert decode_header_words(value) == "GrüßeMünchen plain x"  # RFC 2047 6.2: space dropped
    assert decode_header_words("no words") == "no words"
    assert decode_header_words("=?utf-8?x?bad?=") == "=?utf-8?x?bad?="


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_encoded_header_words_round_trip_through_the_email_package(text):
    encoded = encode_header_words(text, lead=9)
    assert encoded.isascii()
    assert all(len(line) <= 78 - (9 if i == 0 else 0) for i, line in enumerate(encoded.split("\r\n")))
    if not text.isascii() or "\r" in text or "\n" in text:
        decoded = str(email.header.make_header(email.header.decode_header(encoded)))
        assert decoded == text
        assert decode_header_words(encoded.replace("\r\n", "")) == text


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=400), cte=st.sampled_from(["base64", "quoted-printable", "7bit"]),
       cuts=st.lists(st.integers(0, 600), max_size=6))
def test_incremental_decoder_matches_whole_decoding(payload, cte, cuts):
    if cte == "base64":
        encoded = base64.encodebytes(payload)
    elif cte == "quoted-printable":
        encoded = binascii.b2a_qp(payload).replace(b"\n", b"\r\n")
    else:
        encoded = payload
    bounds = [0, *sorted(min(c, len(encoded)) for c in cuts), len(encoded)]
    decoder = IncrementalTransferDecoder(cte)
    out = b"".join(decoder.feed(encoded[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    out += decoder.finish()
    assert out == decode_transfer(encoded, cte)[0]
    if cte != "quoted-printable":  # QP text mode turns line breaks into CRLF on purpose
        assert out == payload


def test_text_body_encoding():
    assert encode_text_body("a\nb") == (b"a\r\nb", "7bit")
    body, cte = encode_text_body("caf\u00e9\n")
    assert cte == "quoted-printable" and decode_transfer(body, cte)[0] == "caf\u00e9\r\n".encode()
