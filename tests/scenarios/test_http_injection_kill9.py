"""A 200 from REST injection means the message is durable: kill -9 right after the answer,
start again, and the message (with its campaign_id/metadata context) is delivered."""
from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys

from tests.helpers.daemon import daemon_env, free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import wait_for

CONF = """
gateway = "127.0.0.1:{sink}"
HTTP_Listener {{ rest_api_keys = ( "key-1" ) Listen "127.0.0.1:{port}" {{ }} }}
"""
PAYLOAD = {
    "campaign_id": "durable", "metadata": {"order": 42},
    "recipients": [{"address": "kept@dest.example"}],
    "content": {"from": "app@sender.example", "subject": "order {{n}}", "text": "order {{n}}"},
    "substitution_data": {"n": "42"},
}


def test_kill9_after_200_loses_nothing(tmp_path):
    port = free_port()
    with SmtpSink("127.0.0.1", hang_at="banner") as stuck, \
            start_daemon(CONF.format(port=port, sink=stuck.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/api/v1/transmissions", body=json.dumps(PAYLOAD),
                     headers={"Authorization": "key-1", "Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        d.kill()  # SIGKILL right after the answer: no graceful spool close
        conn.close()
    shown = subprocess.run([sys.executable, "-m", "ecelerity.core.show", "-s", "var/spool"],
                           cwd=tmp_path, env=daemon_env(), capture_output=True, text=True,
                           timeout=30)
    assert "kept@dest.example" in shown.stdout, shown.stdout + shown.stderr
    [msgid] = re.findall(r"\b[0-9A-F]{2}/[0-9A-F]{2}-\d{5}-[0-9A-F]{8}\b", shown.stdout)
    record = subprocess.run([sys.executable, "-m", "ecelerity.core.show", "-s", "var/spool", msgid],
                            cwd=tmp_path, env=daemon_env(), capture_output=True, text=True,
                            timeout=30).stdout
    assert re.search(r'Message Context: \[campaign_id=durable,metadata="\{"order": 42\}",'
                     r"transmission_id=\d+\]", record), record
    assert "Received From: REST 127.0.0.1" in record and "with HTTP id" in record
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(CONF.format(port=free_port(), sink=sink.port), tmp_path) as d:
        assert wait_for(lambda: len(sink.messages) >= 1, timeout=20), d.diagnostics()
    [message] = sink.messages
    assert message.rcpts == ["kept@dest.example"] and b"order 42" in message.body
    assert message.mail_from == "app@sender.example"
