"""Header block handling and trace/identity headers: smtp/headers.py, smtp/received.py."""
from __future__ import annotations

from ecelerity.policy.vctx import HeaderEdit
from ecelerity.smtp.headers import apply_edits, header_names, header_values, split_message
from ecelerity.smtp.received import (add_identity_headers, message_id_value, protocol_name,
                                     received_header)


def test_split_message():
    parts = split_message(b"A: 1\r\nB: 2\r\n folded\r\n\r\nbody\r\n")
    assert (parts.header_block, parts.separator, parts.body) == (b"A: 1\r\nB: 2\r\n folded\r\n", b"\r\n", b"body\r\n")
    no_headers = split_message(b"just a body line\r\n")
    assert (no_headers.header_block, no_headers.body) == (b"", b"just a body line\r\n")
    no_blank = split_message(b"A: 1\r\nnot a header\r\n")
    assert (no_blank.header_block, no_blank.separator, no_blank.body) == (b"A: 1\r\n", b"", b"not a header\r\n")
    assert header_values(b"Subject: a\r\n b\r\n", "subject") == ["a b"]
    assert header_names(b"From: x\r\nTo: y\r\n") == {"from", "to"}


def test_apply_edits_keeps_other_bytes():
    block = b"From: a\r\nX-Old: 1\r\nSubject:  spaced \r\nX-Old: 2\r\n"
    edits = [HeaderEdit("X-New", "v", "append"), HeaderEdit("X-Top", "t", "prepend"),
             HeaderEdit("X-Old", None, "delete"), HeaderEdit("Subject", "new", "replace")]
    assert apply_edits(block, edits) == b"X-Top: t\r\nFrom: a\r\nX-New: v\r\nSubject: new\r\n"


def test_identity_headers_added_only_when_missing():
    block, added = add_identity_headers(b"From: a\r\n", msgid="00/00-02001-C6DD1CA4", hostname="centos",
                                        messageid_policy="ifneeded", date_policy="ifneeded", when=0)
    assert added["Message-ID"] == "<00.00.02001.C6DD1CA4@centos>"
    assert block.startswith(b"From: a\r\nMessage-ID: <00.00.02001.C6DD1CA4@centos>\r\nDate: ")
    same, added = add_identity_headers(block, msgid="x", hostname="h", messageid_policy="ifneeded",
                                       date_policy="ifneeded")
    assert same == block and added == {}
    untouched, added = add_identity_headers(b"From: a\r\n", msgid="x", hostname="h",
                                            messageid_policy="never", date_policy="no")
    assert untouched == b"From: a\r\n" and added == {}
    assert message_id_value("10/00-00042-ABCDEF01", "h") == "<10.00.00042.ABCDEF01@h>"


def test_received_header_shape():
    text = received_header(helo="client (evil)\r\nX-Injected: 1", peer_ip="192.0.2.7", hostname="mx.test",
                           protocol=protocol_name(esmtp=True, tls=True, auth=True), msgid="00/00-1-2", when=0)
    lines = text.split(b"\r\n")
    assert lines[0].startswith(b"Received: from client ?evil?")
    assert b"\r\nX-Injected" not in text and text.count(b"\r\n") == 3
    assert lines[0].endswith(b"(192.0.2.7 [192.0.2.7])")
    assert lines[1].startswith(b"\tby mx.test (ecelerity ") and lines[1].endswith(b"with ESMTPSA id 00/00-1-2;")
    assert protocol_name(esmtp=False) == "SMTP" and protocol_name(esmtp=True, smtputf8=True) == "UTF8SMTP"
