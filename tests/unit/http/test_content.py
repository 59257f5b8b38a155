"""ecelerity/http/content.py through render_transmission: the MIME tree of attachments and
inline images, parsed back with the stdlib email package; invalid parts are refused."""
from __future__ import annotations

import base64
import email
import email.policy
import os

import pytest

from ecelerity.http.transmissions import TransmissionError, render_transmission

PDF = os.urandom(3000) + b"\r\n.\r\n\x00"  # binary, with an SMTP terminator inside
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
NOTE = "caf\u00e9 note\n".encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _tx(**content):
    base = {"from": "s@y.example", "subject": "files for {{n}}", "text": "see {{n}}",
            "html": '<p>{{n}} <img src="cid:logo.png"></p>'}
    base.update(content)
    return {"recipients": [{"address": "a@x.example", "substitution_data": {"n": "Ann"}}],
            "content": base}


def _parse(payload):
    rendered, rejected = render_transmission(payload)
    assert rejected == 0 and len(rendered) == 1
    return email.message_from_bytes(rendered[0].data, policy=email.policy.default), rendered[0].data


def test_text_html_images_and_attachments_make_mixed_alternative_related():
    parsed, raw = _parse(_tx(
        reply_to="Help <help@y.example>", headers={"X-Tag": "{{n}}"},
        inline_images=[{"name": "logo.png", "type": "image/png", "data": _b64(PNG)}],
        attachments=[{"name": "bill.pdf", "type": "application/pdf", "data": _b64(PDF)},
                     {"name": "note.txt", "type": 'text/plain; charset="utf-8"',
                      "data": _b64(NOTE)}]))
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed["Reply-To"] == "Help <help@y.example>" and parsed["X-Tag"] == "Ann"
    alternative, *attachments = parsed.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.iter_parts()
    assert plain.get_content().strip() == "see Ann"
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert "Ann" in html.get_content() and 'src="cid:logo.png"' in html.get_content()
    assert image["Content-ID"] == "<logo.png>" and image.get_content_disposition() == "inline"
    assert image.get_content() == PNG
    assert [a.get_filename() for a in attachments] == ["bill.pdf", "note.txt"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_payload(decode=True) == PDF
    assert attachments[1].get_param("charset") == "utf-8"
    assert attachments[1].get_payload(decode=True) == NOTE
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_attachment_without_html_or_text_alternative():
    parsed, _ = _parse({"recipients": [{"address": "a@x.example"}],
                        "content": {"from": "s@y.example", "subject": "s", "text": "body",
                                    "attachments": [{"name": "a.bin",
                                                     "type": "application/octet-stream",
                                                     "data": _b64(b"\x00\x01")}]}})
    body, attachment = parsed.iter_parts()
    assert parsed.get_content_type() == "multipart/mixed"
    assert body.get_content_type() == "text/plain"
    assert attachment.get_payload(decode=True) == b"\x00\x01"


@pytest.mark.parametrize("content, code, text", [
    ({"attachments": [{"name": "a", "type": "application/pdf"}]}, "1400",
     "content.attachments[0].data"),
    ({"attachments": [{"name": "a", "type": "application/pdf", "data": "!!"}]}, "1300",
     "not valid base64"),
    ({"attachments": [{"name": "a", "type": "pdf", "data": "AA=="}]}, "1300", "not a MIME type"),
    ({"attachments": [{"name": "a\r\nX: y", "type": "text/plain", "data": "AA=="}]}, "1300",
     "name"),
    ({"attachments": {"name": "a"}}, "1300", "must be an array"),
    ({"inline_images": [{"name": "i", "type": "image/png", "data": "AA=="}] * 2}, "1300",
     "unique"),
    ({"html": None, "inline_images": [{"name": "i", "type": "image/png", "data": "AA=="}]},
     "1300", "content.html"),
    ({"headers": {"Content-Transfer-Encoding": "8bit"}}, "1300", "Content-Transfer-Encoding"),
    ({"headers": {"Reply-To": "x@y.example"}}, "1300", "Reply-To"),
])
def test_invalid_parts_are_refused(content, code, text):
    with pytest.raises(TransmissionError) as caught:
        render_transmission(_tx(**content))
    assert (caught.value.status, caught.value.code) == (422, code)
    assert text in caught.value.description


def test_substitution_cannot_inject_headers():
    payload = _tx()
    payload["recipients"].append({"address": "b@x.example",
                                  "substitution_data": {"n": "x\r\nBcc: evil@e.example"}})
    rendered, rejected = render_transmission(payload)
    assert [r.recipient for r in rendered] == ["a@x.example"] and rejected == 1
