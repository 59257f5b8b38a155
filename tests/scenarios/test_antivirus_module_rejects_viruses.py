"""The antivirus module in a real daemon with a real clamd: EICAR refused, clean mail delivered,
clamd down or hung -> 451 naming the engine, and the daemon keeps serving.

clamd runs from tests/helpers/clamd.py (a tmp dir, a one-signature database); the
daemon delivers accepted mail to a real SMTP sink through ``gateway``.
"""
from __future__ import annotations

import base64
import time

import pytest

from tests.helpers.clamd import EICAR, REPORTED, start_clamd
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import RawClient, wait_for

CONF = """
relay_domains = ( "example.com" )
gateway = "127.0.0.1:{sink_port}"
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
clamav {{ }}
antivirus "antivirus1" {{
  clamav "clamav1" {{ daemon = "{socket}"  timeout = 1  action = reject }}
}}
"""


def message(attachment: bytes, subject: str) -> str:
    encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    return (f"From: a@client.example\r\nTo: ok@example.com\r\nSubject: {subject}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
            "--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            "--B\r\nContent-Type: application/octet-stream; name=\"x.com\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--B--\r\n.")


def send(port: int, data: str):
    client = RawClient(port)
    assert client.read_reply().code == 220
    assert client.cmd("EHLO client.example").code == 250
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    assert client.cmd("RCPT TO:<ok@example.com>").code == 250
    assert client.cmd("DATA").code == 354
    reply = client.cmd(data)
    client.cmd("QUIT")
    client.close()
    return reply


@pytest.fixture
def setup(tmp_path):
    with start_clamd(tmp_path / "clamd") as clamd, SmtpSink("127.0.0.1") as sink:
        port = free_port()
        conf = CONF.format(port=port, sink_port=sink.port, socket=clamd.socket_path)
        (tmp_path / "mta").mkdir()
        with start_daemon(conf, tmp_path / "mta") as daemon:
            daemon.wait_for_paniclog("ecelerity: started")
            yield clamd, sink, daemon, port


def test_eicar_is_refused_with_550_571_and_clean_mail_is_delivered(setup):
    clamd, sink, daemon, port = setup
    reply = send(port, message(EICAR, "infected"))
    assert (reply.code, reply.text) == (
        550, f"5.7.1 virus {REPORTED} found by clamav1; message refused")
    reply = send(port, message(b"quarterly figures", "clean"))
    assert reply.code == 250, reply
    assert wait_for(lambda: sink.messages, timeout=15), daemon.diagnostics()
    assert [b"Subject: clean" in m.body for m in sink.messages] == [True]
    stats = daemon.command("antivirus:antivirus1 stats").body
    assert "  Viruses detected:   1" in stats and "  Messages checked:   2" in stats


def test_clamd_killed_tempfails_451_naming_the_engine_and_the_daemon_keeps_serving(setup):
    clamd, sink, daemon, port = setup
    clamd.stop()
    reply = send(port, message(b"anything", "while clamd is down"))
    assert reply.code == 451
    assert reply.text.startswith("4.3.0 virus scanner clamav1 unavailable (clamd at ")
    assert reply.text.endswith("); try again later")
    reply = send(port, message(EICAR, "again"))  # the next session is served the same way
    assert reply.code == 451
    assert "Traceback" not in daemon.paniclog_text()


def test_hung_clamd_is_cut_at_the_timeout_and_other_sessions_are_not_blocked(setup):
    clamd, sink, daemon, port = setup
    clamd.pause()
    try:
        started = time.monotonic()
        client = RawClient(port)
        assert client.read_reply().code == 220
        assert client.cmd("EHLO client.example").code == 250
        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<ok@example.com>").code == 250
        assert client.cmd("DATA").code == 354
        client.send(message(b"slow", "hung") + "\r\n")
        other = RawClient(port)  # while the first session waits on clamd, the hub serves
        assert other.read_reply().code == 220
        assert other.cmd("EHLO other.example").code == 250
        assert time.monotonic() - started < 0.9
        other.close()
        reply = client.read_reply()
        assert reply.code == 451 and "did not answer within 1s" in reply.text
        assert time.monotonic() - started < 5
        client.close()
    finally:
        clamd.resume()
