"""The body side of a message view: policy/sieve/message_body.py (mixed into MessageView)."""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve.message_body import type_matches
from ecelerity.policy.sieve.message_view import MessageView
from ecelerity.policy.sieve.message_view import _type_matches as old_name

MULTIPART = (b"Subject: parts\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
             b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n"
             b"--b1\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>h\xe9</p>\r\n"
             b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             b"YmluYXJ5\r\n"
             b"--b1\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nodd\r\n"
             b"--b1--\r\n")


@pytest.mark.parametrize("ctype,want,expected", [
    ("text/plain", "", True), ("text/plain", "text", True), ("text/plain", "TEXT/PLAIN", True),
    ("text/plain", "text/html", False), ("application/pdf", "text", False),
    ("application/pdf", "application", True), ("text/plain", "tex", False),
])
def test_type_matches_a_contenttype_entry(ctype, want, expected):
    assert type_matches(ctype, want) is expected
    assert old_name is type_matches  # still importable from message_view


def test_text_parts_by_default_decoded_with_their_charset():
    parts = MessageView(MULTIPART).body_parts(None)
    assert parts == ["plain text", "<p>hé</p>", "odd"]  # unknown charset: read as UTF-8


def test_content_type_filters_pick_leaf_parts():
    view = MessageView(MULTIPART)
    assert view.body_parts(["application/octet-stream"]) == ["binary"]
    assert view.body_parts(["text/html"]) == ["<p>hé</p>"]
    assert len(view.body_parts([""])) == 4  # every leaf, never the multipart container


def test_an_edit_drops_the_parsed_tree():
    view = MessageView(b"Subject: a\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
    assert view.body_parts(None) == ["body\r\n"] and view.message["Subject"] == "a"
    view.edit_header("replace", "Subject", "b")
    assert view.message["Subject"] == "b"
    assert view.body_raw() == "body\r\n"
