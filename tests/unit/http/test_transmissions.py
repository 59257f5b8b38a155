"""ecelerity/http/transmissions.py: validation, substitution, rendering per recipient."""
from __future__ import annotations

import email
import email.policy

import pytest

from ecelerity.http.legacy_inject import render_legacy
from ecelerity.http.transmissions import TransmissionError, render_transmission, substitute


def _tx(**over):
    tx = {"recipients": [{"address": "a@x.example"}],
          "content": {"from": "s@y.example", "subject": "hi {{n}}", "text": "t {{n}}"}}
    tx.update(over)
    return tx


def test_substitute_names_paths_escaping_and_unknowns():
    data = {"n": "<b>", "address": {"email": "a@x"}, "num": 3}
    assert substitute("{{n}} {{ address.email }} {{num}} {{nope}}.", data) == "<b> a@x 3 ."
    assert substitute("{{n}} {{{n}}}", data, escape_html=True) == "&lt;b&gt; <b>"


@pytest.mark.parametrize("payload, code, text", [
    ({"content": {"from": "s@y.example", "subject": "s", "text": "t"}}, "1400", "recipients"),
    (_tx(content=None), "1400", "content"),
    (_tx(content={"from": "s@y.example", "text": "t"}), "1400", "content.subject"),
    (_tx(content={"subject": "s", "text": "t"}), "1400", "content.from"),
    (_tx(content={"from": "s@y.example", "subject": "s"}), "1400", "content.text"),
    (_tx(recipients={"list_id": "l"}), "1300", "list_id"),
    (_tx(content={"template_id": "t"}), "1300", "template_id"),
    (_tx(campaign_id="c" * 65), "1300", "campaign_id"),
    (_tx(content={"from": "s@y.example", "subject": "s", "text": "t", "headers": {"To": "x"}}),
     "1300", "To"),
    ([1, 2], "1300", "JSON object"),
])
def test_invalid_requests(payload, code, text):
    with pytest.raises(TransmissionError) as caught:
        render_transmission(payload)
    assert caught.value.code == code and caught.value.status == 422
    assert text in caught.value.description


def test_recipient_data_overrides_and_return_path():
    rendered, rejected = render_transmission(_tx(
        substitution_data={"n": "base"}, return_path="rp@y.example", metadata={"m": 1},
        recipients=[{"address": {"email": "a@x.example", "header_to": "list@x.example"},
                     "substitution_data": {"n": "own"}, "return_path": "own@y.example",
                     "metadata": {"r": 2}, "tags": ["t1"]},
                    {"address": "B <b@x.example>"}, {"address": "nobody"}]))
    assert rejected == 1 and [r.recipient for r in rendered] == ["a@x.example", "b@x.example"]
    first, second = rendered
    assert (first.mail_from, second.mail_from) == ("own@y.example", "rp@y.example")
    assert first.context["metadata"] == '{"m": 1, "r": 2}' and first.context["tags"] == '["t1"]'
    msg = email.message_from_bytes(first.data, policy=email.policy.default)
    assert msg["Subject"] == "hi own" and msg["To"] == "list@x.example"
    assert email.message_from_bytes(second.data)["To"] == "B <b@x.example>"
    assert b"\r\n" in first.data and b"\n" not in first.data.replace(b"\r\n", b"")


def test_email_rfc822_is_substituted_and_its_from_is_the_default_sender():
    [one], _ = render_transmission({"recipients": [{"address": "a@x.example"}],
                                    "substitution_data": {"w": "world"},
                                    "content": {"email_rfc822": "From: f@y.example\nSubject: "
                                                "s\n\nhello {{w}}\n"}})
    assert one.mail_from == "f@y.example" and one.data.endswith(b"\r\n\r\nhello world\r\n")


def test_legacy_body():
    good, bad = render_legacy({"template": "Subject: s\n\nb\n",
                               "recipients": [{"to": "a@x", "from": "f@y", "vctx": {"k": 1}},
                                              {"to": "broken"}]})
    assert good.recipient == "a@x" and good.context == {"k": "1"} and good.data.endswith(b"b\r\n")
    assert bad.startswith("550 5.1.3")
    with pytest.raises(TransmissionError):
        render_legacy({"recipients": []})
