"""Message model: byte-identical round trips, agreement with Python's email package,
header/body mutations that touch only what they should, and spool-backed messages."""

from __future__ import annotations

import email
import email.policy
import email.utils
import glob
import os

import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.message import Message
from ecelerity.core.spool import Spool

CORPUS = os.path.join(os.path.dirname(__file__), "corpus")
ALL = sorted(glob.glob(os.path.join(CORPUS, "*.eml")))
WELL_FORMED = [path for path in ALL if not os.path.basename(path).startswith("malformed_")]


def read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def test_corpus_is_present():
    assert len(WELL_FORMED) >= 7 and len(ALL) > len(WELL_FORMED)


@pytest.mark.parametrize("path", ALL, ids=os.path.basename)
def test_unmodified_message_renders_byte_identical(path):
    raw = read(path)
    message = Message(raw)
    assert message.render() == raw
    message.mime()  # building the tree and walking it changes nothing
    for part in message.mime().walk():
        part.body()
    assert not message.modified
    assert message.render() == raw


@pytest.mark.parametrize("path", WELL_FORMED, ids=os.path.basename)
def test_structure_and_payloads_agree_with_email_package(path):
    raw = read(path)
    ours = list(Message(raw).mime().walk())
    theirs = list(email.message_from_bytes(raw, policy=email.policy.default).walk())
    assert [p.content_type for p in ours] == [p.get_content_type() for p in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.is_multipart == reference.is_multipart()
        if not mine.is_multipart:
            assert mine.body() == reference.get_payload(decode=True)
            if mine.maintype == "text":
                assert mine.text() == reference.get_content()
        assert mine.charset == reference.get_param("charset")


@pytest.mark.parametrize("path", WELL_FORMED, ids=os.path.basename)
def test_decoded_headers_agree_with_email_package(path):
    raw = read(path)
    message = Message(raw)
    reference = email.message_from_bytes(raw, policy=email.policy.default)
    assert " ".join(message.get("Subject").split()) == " ".join(str(reference["Subject"]).split())
    for name in ("From", "To"):  # email re-serialises addresses: compare what they hold
        expected = reference[name].addresses[0]
        assert email.utils.parseaddr(message.get(name)) == (expected.display_name,
                                                            expected.addr_spec)


def test_header_mutation_rewrites_only_the_header_block():
    raw = read(os.path.join(CORPUS, "mixed_attachment.eml"))
    message = Message(raw)
    message.headers.prepend("X-Policy", "checked")
    message.headers.replace("Subject", "Rechnung für Juni")
    out = message.render()
    body = raw[message.body_start:]
    assert out.endswith(body) and out.startswith(b"X-Policy: checked\r\nFrom: ")
    assert b"Subject: =?utf-8?b?" in out and b"Subject: Invoice" not in out
    assert Message(out).get("Subject") == "Rechnung für Juni"
    untouched = [line for line in raw[:message.body_start].split(b"\r\n") if
                 not line.startswith(b"Subject")]
    for line in untouched:
        assert line in out


def test_mutation_of_one_part_leaves_the_others_byte_identical():
    raw = read(os.path.join(CORPUS, "alternative.eml"))
    message = Message(raw)
    plain, html = message.mime().children
    html_raw = html.raw()
    plain.set_text("Replaced plain text \u2713")
    out = message.render()
    assert html_raw in out
    assert out.count(b"--alt-7f3a") == raw.count(b"--alt-7f3a")
    assert raw[:plain.start] == out[:plain.start]  # headers, preamble, first delimiter
    assert out.endswith(raw[html.start - len(b"\r\n--alt-7f3a\r\n"):])
    reparsed = Message(out).mime().children
    assert reparsed[0].text() == "Replaced plain text \u2713\r\n" or \
        reparsed[0].text() == "Replaced plain text \u2713"
    assert reparsed[1].body() == html.body()


def test_set_text_replaces_the_whole_body():
    message = Message(read(os.path.join(CORPUS, "nested_rfc822.eml")))
    message.set_text("short and new")
    out = Message(message.render())
    assert out.mime().content_type == "text/plain" and out.text() == "short and new"
    assert out.get("From") == "postmaster@example.net"


def test_nothing_materialised_before_mime_is_asked():
    message = Message(read(os.path.join(CORPUS, "alternative.eml")))
    assert message._root is None
    assert message.get("subject") == "Quarterly report"
    assert message._root is None


@pytest.mark.parametrize("threshold", [10**9, 0], ids=["read", "mapped"])
def test_message_from_spool(tmp_path, threshold):
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    raws = [read(path) for path in WELL_FORMED[:3]]
    try:
        stored = []
        for raw in raws:
            envelope = Envelope(mail_from="a@example.com", recipients=[Recipient("b@example.net")])
            stored.append(spool.store(envelope, raw).messages[0])
        for spooled, raw in zip(stored, raws, strict=True):
            message = Message.from_spool(spool, spooled, large_threshold=threshold)
            try:
                assert message.size == len(raw)
                assert message.render() == raw
                assert [p.content_type for p in message.mime().walk()] == [
                    p.content_type for p in Message(raw).mime().walk()]
            finally:
                message.close()
    finally:
        spool.close()


def test_large_message_threshold_from_the_config_decides_read_or_mapped(tmp_path):
    import mmap

    from ecelerity.config.loader import load_config_text
    from ecelerity.core import message as message_module
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    raw = read(WELL_FORMED[0])
    try:
        envelope = Envelope(mail_from="a@example.com", recipients=[Recipient("b@example.net")])
        spooled = spool.store(envelope, raw).messages[0]
        for threshold, mapped in ((len(raw) - 1, True), (len(raw), False)):
            message_module.configure(load_config_text(f"large_message_threshold = {threshold}\n"))
            assert message_module.large_message_threshold() == threshold
            message = Message.from_spool(spool, spooled)
            try:
                assert isinstance(message.source, mmap.mmap) is mapped
                assert message.render() == raw
            finally:
                message.close()
    finally:
        message_module.configure(load_config_text(""))
        spool.close()
    assert message_module.large_message_threshold() == 131072
