"""Attachments and inline images injected over REST reach a real SMTP sink byte-exact, in a
MIME tree Python's email package parses (mixed > alternative > related)."""
from __future__ import annotations

import base64
import email
import email.policy
import http.client
import json
import os

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import wait_for

CONF = """
gateway = "127.0.0.1:{sink}"
HTTP_Listener {{ rest_api_keys = ( "k" ) Listen "127.0.0.1:{port}" {{ }} }}
"""


def test_attachments_and_inline_images_reach_the_sink_intact(tmp_path):
    blob = os.urandom(200_000) + b"\r\n.\r\n" + os.urandom(1000)  # dot line inside, binary
    image = b"\x89PNG\r\n\x1a\n" + os.urandom(4000)
    payload = {
        "recipients": [{"address": "files@dest.example"}, {"address": "more@dest.example"}],
        "content": {"from": "app@sender.example", "subject": "your files",
                    "reply_to": "help@sender.example", "text": "plain {{address.email}}",
                    "html": '<p>html <img src="cid:logo"></p>',
                    "inline_images": [{"name": "logo", "type": "image/png",
                                       "data": base64.b64encode(image).decode()}],
                    "attachments": [{"name": "data.bin", "type": "application/octet-stream",
                                     "data": base64.b64encode(blob).decode()}]}}
    port = free_port()
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("POST", "/api/v1/transmissions", body=json.dumps(payload),
                     headers={"Authorization": "k", "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
        assert response.status == 200 and answer["results"]["total_accepted_recipients"] == 2
        assert wait_for(lambda: len(sink.messages) >= 2, timeout=20), d.diagnostics()
    for sunk in sink.messages:
        parsed = email.message_from_bytes(sunk.body, policy=email.policy.default)
        assert parsed.get_content_type() == "multipart/mixed"
        assert parsed["Reply-To"] == "help@sender.example"
        assert parsed.get_body(("plain",)).get_content().strip() == f"plain {sunk.rcpts[0]}"
        [attachment] = list(parsed.iter_attachments())
        assert attachment.get_filename() == "data.bin"
        assert attachment.get_payload(decode=True) == blob
        related = parsed.get_body(("related",))
        [cid_part] = [p for p in related.iter_parts() if p["Content-ID"] == "<logo>"]
        assert cid_part.get_payload(decode=True) == image
