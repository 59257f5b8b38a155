"""Header multimap: raw bytes kept, case-insensitive reads, mutations, parameters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.headers import Headers, parse_content_header

BLOCK = (
    b"Received: from a\r\n\tby b; Mon, 3 Jun 2024\r\n"
    b"subject: =?utf-8?q?caf=C3=A9?= time\r\n"
    b"X-Tag: one\r\n"
    b"x-tag:two\r\n"
    b"\r\nbody\r\n"
)


def test_parse_keeps_raw_bytes_and_finds_the_body():
    headers, body_start, separator = Headers.parse(BLOCK)
    assert separator and BLOCK[body_start:] == b"body\r\n"
    assert headers.render() + b"\r\n" == BLOCK[:body_start]
    assert headers.names() == ["Received", "subject", "X-Tag", "x-tag"]


def test_reads_are_case_insensitive_unfolded_and_decoded():
    headers, _, _ = Headers.parse(BLOCK)
    assert headers.get("SUBJECT") == "café time"
    assert headers.get("received") == "from a\tby b; Mon, 3 Jun 2024"
    assert headers.get_all("X-TAG") == ["one", "two"]
    assert headers.get_raw("subject") == [b"=?utf-8?q?caf=C3=A9?= time"]
    assert headers.get("missing", "dflt") == "dflt" and "x-tag" in headers


def test_mutations():
    headers, _, _ = Headers.parse(BLOCK)
    headers.prepend("X-First", "1")
    headers.append("X-Last", "9")
    headers.replace("x-tag", "three")
    assert headers.delete("received") == 1 and headers.delete("nope") == 0
    assert headers.names() == ["X-First", "subject", "X-Last", "x-tag"]
    assert headers.get_all("X-Tag") == ["three"]
    assert headers.changed
    assert headers.render().startswith(b"X-First: 1\r\nsubject: =?utf-8?q?caf=C3=A9?= time\r\n")


def test_new_values_are_rfc2047_encoded_and_read_back():
    headers = Headers()
    headers.append("Subject", "Grüße \u2603 " * 12)
    raw = headers.render()
    assert raw.isascii() and all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert Headers.parse(raw + b"\r\n")[0].get("subject") == "Grüße \u2603 " * 12


def test_bad_names_and_injected_lines_are_refused_or_neutralised():
    headers = Headers()
    with pytest.raises(ValueError):
        headers.append("Bad Name", "x")
    headers.append("X-Ok", "a\r\nInjected: yes")
    assert Headers.parse(headers.render() + b"\r\n")[0].names() == ["X-Ok"]


def test_lf_only_block_keeps_lf_for_new_fields():
    headers, _, _ = Headers.parse(b"A: 1\nB: 2\n\nbody")
    headers.append("C", "3")
    assert headers.render() == b"A: 1\nB: 2\nC: 3\n"


def test_content_header_parameters():
    assert parse_content_header('Text/Plain; charset="utf-8"; format=flowed') == (
        "text/plain", {"charset": "utf-8", "format": "flowed"})
    assert parse_content_header('multipart/mixed; boundary="a;b\\"c"')[1] == {"boundary": 'a;b"c'}
    _, params = parse_content_header(
        "attachment; filename*0*=utf-8''%E2%82%AC; filename*1=\"-rate.pdf\"")
    assert params == {"filename": "\u20ac-rate.pdf"}
    assert parse_content_header("") == ("", {})


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=80))
def test_any_text_value_round_trips(value):
    headers = Headers()
    headers.append("X-Any", value)
    expected = " ".join(value.replace("\r\n", " ").replace("\n", " ").split()) if not \
        value.isascii() else value.replace("\r\n", " ").replace("\n", " ").strip(" \t\r\n")
    read = Headers.parse(headers.render() + b"\r\n")[0].get("x-any")
    assert " ".join(read.split()) == " ".join(expected.split())
