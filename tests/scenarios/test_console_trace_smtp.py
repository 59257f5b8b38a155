"""Scenario: ``trace smtp 127.0.0.1 FILE`` on a running daemon writes the next SMTP
conversation from that peer (commands, body and replies) to FILE; ``trace smtp off``
stops it.
"""
from __future__ import annotations

import smtplib

from tests.helpers.daemon import free_port, start_daemon

CONF = 'relay_hosts = ( "127.0.0.0/8" )\nESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n'
MESSAGE = "From: s@src.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: t\r\n\r\ntraced body\r\n"


def test_trace_smtp_records_the_conversation_until_off(tmp_path):
    port = free_port()
    target = tmp_path / "trace.log"
    with start_daemon(CONF.format(port=port), tmp_path / "d") as daemon:
        assert daemon.command(f"trace smtp 127.0.0.1 {target}").status == 200
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("traced.test")
            client.sendmail("s@src.test", ["r@local.test"], MESSAGE)
        assert daemon.command("trace smtp off").status == 200
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("untraced.test")
    text = target.read_text()
    assert "< ehlo traced.test" in text.lower() and "< traced body" in text and "< QUIT" in text.upper()
    assert "> 221 " in text and "* session end" in text
    assert "untraced.test" not in text
