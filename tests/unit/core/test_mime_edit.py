"""ecelerity/core/mime_edit.py: the editing half of a MIME Part -- edits re-render only
what changed, and an edited tree re-parses to what was asked for."""
from __future__ import annotations

import pytest

from ecelerity.core.mime import Part
from ecelerity.core.mime_edit import PartEdits

RAW = (b"Content-Type: multipart/mixed; boundary=XX\r\n\r\npreamble\r\n"
       b"--XX\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
       b"--XX\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--XX--\r\nepilogue\r\n")


def test_part_takes_its_edits_from_part_edits():
    assert issubclass(Part, PartEdits) and Part.render is PartEdits.render


def test_unlink_and_insert_rerender_only_the_container():
    root = Part.from_bytes(RAW)
    first, second = root.children
    assert root.render() == RAW
    second.unlink()
    second.insert_before(first)
    again = Part.from_bytes(root.render())
    assert [c.content_type for c in again.children] == ["text/html", "text/plain"]
    assert again.children[1].body() == b"first"
    assert root.render().startswith(b"Content-Type: multipart/mixed; boundary=XX\r\n\r\npreamble")


def test_set_text_and_refusals():
    root = Part.from_bytes(RAW)
    root.children[0].set_text("héllo")
    assert Part.from_bytes(root.render()).children[0].text() == "héllo"
    with pytest.raises(ValueError, match="cannot add a child to a text/plain part"):
        root.children[0].add_last_child(Part.from_bytes(b"Content-Type: text/plain\r\n\r\nx"))
    with pytest.raises(ValueError, match="not in a tree"):
        Part.from_bytes(b"\r\nx").insert_after(Part.from_bytes(b"\r\ny"))
