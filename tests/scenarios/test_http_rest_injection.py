"""REST injection in a real daemon: POST /api/v1/transmissions and the legacy /v1.0/inject/
reach a real SMTP sink through the spool and the queue, with Momentum's JSON shapes."""
from __future__ import annotations

import base64
import email
import email.policy
import http.client
import json

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import wait_for

CONF = """
gateway = "127.0.0.1:{sink}"
HTTP_Listener {{
  rest_api_keys = ( "k-secret" )
  Listen "127.0.0.1:{port}" {{ }}
}}
"""

TRANSMISSION = {
    "campaign_id": "spring",
    "return_path": "bounces@sender.example",
    "substitution_data": {"greeting": "Hello", "product": "widgets"},
    "recipients": [
        {"address": {"email": "ann@dest.example", "name": "Ann"},
         "substitution_data": {"first": "Ann"}},
        {"address": "bob@dest.example", "substitution_data": {"first": "Bob"}},
        {"address": "not-an-address"},
    ],
    "content": {"from": {"name": "Shop", "email": "shop@sender.example"},
                "subject": "{{greeting}} {{first}}",
                "text": "{{greeting}} {{first}}, new {{product}} for {{address.email}}.",
                "html": "<p>{{first}} &amp; {{product}}</p>",
                "headers": {"X-Campaign": "{{product}}"}},
}


def post(port, path, payload, key="k-secret"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = key
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_transmission_is_substituted_spooled_and_delivered(tmp_path):
    port = free_port()
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer = post(port, "/api/v1/transmissions", TRANSMISSION)
        assert status == 200, answer
        results = answer["results"]
        assert set(results) == {"total_rejected_recipients", "total_accepted_recipients", "id"}
        assert (results["total_accepted_recipients"], results["total_rejected_recipients"]) == (2, 1)
        assert results["id"].isdigit()
        assert wait_for(lambda: len(sink.messages) >= 2, timeout=20), d.diagnostics()
    by_rcpt = {m.rcpts[0]: m for m in sink.messages}
    assert sorted(by_rcpt) == ["ann@dest.example", "bob@dest.example"]
    ann = by_rcpt["ann@dest.example"]
    assert ann.mail_from == "bounces@sender.example"
    parsed = email.message_from_bytes(ann.body, policy=email.policy.default)
    assert parsed["Subject"] == "Hello Ann" and parsed["To"] == "Ann <ann@dest.example>"
    assert parsed["From"] == "Shop <shop@sender.example>" and parsed["X-Campaign"] == "widgets"
    assert parsed["Message-ID"] and "with HTTP id" in parsed["Received"]
    text = parsed.get_body(("plain",)).get_content()
    assert text.strip() == "Hello Ann, new widgets for ann@dest.example."
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Ann &amp; widgets</p>"
    bob = email.message_from_bytes(by_rcpt["bob@dest.example"].body, policy=email.policy.default)
    assert bob["Subject"] == "Hello Bob"


def test_errors_have_momentums_shape(tmp_path):
    port = free_port()
    with start_daemon(CONF.format(port=port, sink=free_port()), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer = post(port, "/api/v1/transmissions", b"{not json")
        assert status == 400
        [error] = answer["errors"]
        assert error["message"] == "invalid data format/type" and error["code"] == "1300"
        assert error["description"].startswith("Error while parsing JSON")
        status, answer = post(port, "/api/v1/transmissions", TRANSMISSION, key="wrong")
        assert status == 401 and answer["errors"][0]["message"] == "Unauthorized."
        assert post(port, "/api/v1/transmissions", TRANSMISSION, key=None)[0] == 401
        missing = {k: v for k, v in TRANSMISSION.items() if k != "recipients"}
        status, answer = post(port, "/api/v1/transmissions", missing)
        assert status == 422 and answer == {"errors": [{
            "message": "required field is missing", "code": "1400",
            "description": "recipients is a required field"}]}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/v1/transmissions/")
        response = conn.getresponse()
        assert response.status == 405 and json.loads(response.read())["errors"][0]["code"] == "1102"
        conn.close()
        assert d.alive()


def test_legacy_inject_with_basic_auth_and_vctx(tmp_path):
    port = free_port()
    basic = "Basic " + base64.b64encode(b"k-secret:").decode()
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer = post(port, "/v1.0/inject/", {
            "template": "From: a@sender.example\nSubject: legacy\n\nold style body\n",
            "recipients": [{"to": "c@dest.example", "from": "a@sender.example",
                            "vctx": {"k": "v"}}, {"to": "broken"}]}, key=basic)
        assert status == 200 and answer["status"] == "failure"
        ok, bad = answer["results"]
        assert ok["status"] == "success" and ok["reason"] == f"250 {ok['mid']}"
        assert bad["status"] == "failure" and bad["reason"].startswith("550 5.1.3")
        assert wait_for(lambda: len(sink.messages) >= 1, timeout=20), d.diagnostics()
    [message] = sink.messages
    assert message.rcpts == ["c@dest.example"] and message.mail_from == "a@sender.example"
    assert b"old style body" in message.body and b"\r\nSubject: legacy\r\n" in message.body
