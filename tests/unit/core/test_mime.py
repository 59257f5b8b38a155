"""Lazy MIME tree: offsets, tree mutations, malformed input recorded as defects."""

from __future__ import annotations

import glob
import os
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.message import Message
from ecelerity.core.mime import MAX_DEPTH, Part

CORPUS = os.path.join(os.path.dirname(__file__), "corpus")


def load(name: str) -> tuple[bytes, Message]:
    with open(os.path.join(CORPUS, name), "rb") as handle:
        raw = handle.read()
    return raw, Message(raw)


def test_parts_are_offsets_into_the_source():
    raw, message = load("mixed_attachment.eml")
    root = message.mime()
    text, pdf = root.children
    assert root._children is not None and text._children is None  # leaves not expanded yet
    assert raw[text.start:text.end] == text.raw()
    assert raw[pdf.body_start:pdf.body_end] == pdf.raw_body()
    assert pdf.filename == "invoice-117.pdf" and pdf.cte == "base64"
    assert pdf.body() == bytes(range(256)) * 3
    assert text.text() == "Please find the invoice attached. Amount: 120 \u20ac.\r\n"


def test_nested_message_rfc822():
    _, message = load("nested_rfc822.eml")
    types = [p.content_type for p in message.mime().walk()]
    assert types == ["multipart/mixed", "text/plain", "message/rfc822",
                     "multipart/alternative", "text/plain", "text/html"]
    inner = list(message.mime().walk())[4]
    assert inner.charset == "iso-8859-1" and inner.text() == "Caf\u00e9 at noon?\r\n"


def test_unlink_and_insert_rerender_only_the_container():
    raw, message = load("alternative.eml")
    root = message.mime()
    plain, html = root.children
    plain_raw, html_raw = plain.raw(), html.raw()
    html.unlink()
    out = message.render()
    assert html_raw not in out and plain_raw in out
    assert [p.content_type for p in Message(out).mime().walk()] == [
        "multipart/alternative", "text/plain"]
    html.insert_before(plain)
    out = message.render()
    assert out.index(html_raw) < out.index(plain_raw)
    assert out.startswith(raw[:plain.start - len(b"--alt-7f3a\r\n")])
    reparsed = Message(out).mime().children
    assert [p.content_type for p in reparsed] == ["text/html", "text/plain"]
    assert reparsed[0].body() == html.body() and reparsed[1].body() == plain.body()


def test_new_parts_added_first_and_last():
    _, message = load("signed.eml")
    root = message.mime()
    root.add_first_child(Part.from_bytes(b"Content-Type: text/plain\r\n\r\nfirst"))
    root.add_last_child(Part.from_bytes(b"Content-Type: text/x-note\r\n\r\nlast"))
    parts = Message(message.render()).mime().children
    assert [p.content_type for p in parts] == [
        "text/plain", "text/plain", "application/pgp-signature", "text/x-note"]
    assert parts[0].body() == b"first" and parts[3].body() == b"last"
    assert parts[1].body() == b"I agree to the terms."


def test_untouched_sibling_subtree_is_copied_verbatim():
    raw, message = load("nested_rfc822.eml")
    forwarded = message.mime().children[1]
    message.mime().children[0].headers.append("X-Scanned", "yes")
    out = message.render()
    assert raw[forwarded.start:forwarded.end] in out
    assert b"Content-Type: text/plain\r\nX-Scanned: yes\r\n\r\nForwarding" in out
    assert len(out) == len(raw) + len(b"X-Scanned: yes\r\n")


def test_malformed_corpus_never_raises_and_records_defects():
    expected = {
        "malformed_no_close.eml": "close delimiter",
        "malformed_missing_boundary.eml": "not found",
        "malformed_no_boundary_param.eml": "without a boundary",
        "malformed_no_separator.eml": "not ended by an empty line",
        "malformed_deep_nesting.eml": "deeper than",
        "malformed_bad_base64.eml": "base64",
    }
    for path in sorted(glob.glob(os.path.join(CORPUS, "malformed_*.eml"))):
        raw, message = load(os.path.basename(path))
        for part in message.mime().walk():
            part.text()
        defects = message.defects()
        word = expected.get(os.path.basename(path))
        if word:
            assert any(word in defect for defect in defects), (path, defects)
        assert message.render() == raw


def test_deep_nesting_is_capped():
    _, message = load("malformed_deep_nesting.eml")
    depths = [p.depth for p in message.mime().walk()]
    assert max(depths) == MAX_DEPTH


def test_megabyte_header_line_and_nul_bytes():
    raw = (b"From: a@example.com\r\nX-Huge: " + b"x\x00" * (512 * 1024) +
           b"\r\nSubject: long\r\n\r\nbody\x00\r\n")
    started = time.perf_counter()
    message = Message(raw)
    assert message.get("subject") == "long" and len(message.get("x-huge")) == 1024 * 1024
    assert message.mime().body() == b"body\x00\r\n"
    assert message.render() == raw
    assert time.perf_counter() - started < 2


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from([
        b"Content-Type: multipart/mixed; boundary=b\r\n", b"Content-Type: message/rfc822\r\n",
        b"\r\n", b"--b\r\n", b"--b--\r\n", b"x: y\r\n", b"body\r\n", b"\n", b" fold\r\n",
        b"Content-Transfer-Encoding: base64\r\n", b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"=E9=\r\n", b"SGk=\r\n", b"Content-Type: text/plain; charset=bogus\r\n"]),
        max_size=30).map(b"".join)))
def test_random_input_never_raises_and_round_trips(raw):
    message = Message(raw)
    for part in message.mime().walk():
        part.body()
        part.text()
        _ = part.content_type, part.params, part.filename
    message.defects()
    assert message.render() == raw


MIME_PIECES = st.sampled_from([
    b"Content-Type: multipart/mixed; boundary=x\r\n", b"Content-Type: message/rfc822\r\n",
    b"Content-Type: multipart/digest; boundary=x\r\n", b"\r\n", b"\n", b"--x\r\n", b"--x--\r\n",
    b"--x", b"--x--", b"preamble\r\n", b"a: b\r\n", b"body", b"Content-Type: text/plain\r\n"])


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(MIME_PIECES, max_size=25).map(b"".join))
def test_walking_a_standalone_part_leaves_it_byte_identical(raw):
    """Regression: building children (walk, children, text) is not a modification."""
    part = Part.from_bytes(raw)
    for sub in part.walk():
        assert isinstance(sub.children, list)
        sub.text()
    assert part.render() == raw
    assert part.raw_body() == raw[part.body_start:part.body_end]


def test_walked_malformed_corpus_renders_byte_identical_as_standalone_parts():
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.eml"))):
        with open(path, "rb") as handle:
            raw = handle.read()
        part = Part.from_bytes(raw)
        assert len(list(part.walk())) >= 1
        assert part.render() == raw, path


def test_header_edit_keeps_a_multipart_body_without_close_delimiter_as_is():
    raw = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    part = Part.from_bytes(raw)
    assert [p.content_type for p in part.walk()] == ["multipart/mixed", "text/plain"]
    assert any("close delimiter" in d for d in part.defects)
    part.headers.append("X-Scanned", "yes")
    out = part.render()
    assert out.endswith(raw[part.body_start:])  # no close delimiter invented
    assert b"X-Scanned: yes\r\n" in out and b"--x--" not in out


def test_built_multipart_still_gets_a_close_delimiter():
    container = Part.from_bytes(b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b--\r\n')
    container.add_last_child(Part.from_bytes(b"Content-Type: text/plain\r\n\r\nnew"))
    out = container.render()
    assert out.endswith(b"--b\r\nContent-Type: text/plain\r\n\r\nnew\r\n--b--\r\n"), out
    assert [p.body() for p in Part.from_bytes(out).children] == [b"new"]
