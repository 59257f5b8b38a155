"""Tests for ecelerity/core/show.py: the offline ec_show viewer."""
import io
import os
import subprocess
import sys

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.msgid import describe
from ecelerity.core.show import main
from ecelerity.core.spool import Spool

BODY = b"Subject: hello\r\n\r\nline one\r\n"


def make_spool(base) -> list:
    spool = Spool(str(base))
    try:
        envelope = Envelope(mail_from="sender@example.org",
                            recipients=[Recipient("a@example.com"), Recipient("b@example.net")],
                            peer_ip="192.0.2.9", peer_port=40000, local_addr="127.0.0.1:2525",
                            conn_context={"ehlo_domain": "client.example"},
                            mess_context={"mailfrom_domain": "example.org"},
                            conn_id="30/00-02001-C6DD1CA4")
        messages = spool.store(envelope, BODY).messages
        spool.update(messages[0], retries=5, last_error="451 No valid hosts")
        return messages
    finally:
        spool.close()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_list_shows_every_message(tmp_path):
    messages = make_spool(tmp_path / "s")
    status, text = run("-s", str(tmp_path / "s"))
    assert status == 0
    lines = text.splitlines()
    assert lines[-1] == "2 message(s)"
    assert {line.split()[0] for line in lines[:-1]} == {m.id for m in messages}
    assert "To: <b@example.net>" in text and "Size: %d" % len(BODY) in text


def test_one_message_prints_the_record_and_raw_content(tmp_path):
    first, _ = make_spool(tmp_path / "s")
    status, text = run("-s", str(tmp_path / "s"), first.id)
    assert status == 0
    assert f"ID: {first.id} {describe(first.id)}" in text
    assert "ConnID: 30/00-02001-C6DD1CA4 (slot: 1254219116, pid: 2001, counter: 3)" in text
    assert "Retries: 5" in text and "Code: 451 No valid hosts" in text
    assert "Received From: ESMTP 192.0.2.9:40000" in text
    assert "Connection Context: [ehlo_domain=client.example]" in text
    assert text.endswith(BODY.decode() + "\n")


def test_unknown_id_and_missing_spool_are_reported_without_traceback(tmp_path):
    make_spool(tmp_path / "s")
    assert run("-s", str(tmp_path / "s"), "00/00-00001-00000000")[0] == 1
    result = subprocess.run([sys.executable, "-m", "ecelerity.core.show", "-s",
                             str(tmp_path / "nowhere")], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.dirname(os.path.abspath(__file__))))))
    assert result.returncode == 2
    assert "not a spool directory" in result.stderr and "Traceback" not in result.stderr


def test_viewing_a_damaged_spool_reports_and_changes_nothing(tmp_path):
    make_spool(tmp_path / "s")
    segment = tmp_path / "s" / "segments" / os.listdir(tmp_path / "s" / "segments")[0]
    damaged = segment.read_bytes()[:-5]
    segment.write_bytes(damaged)
    status, text = run("-s", str(tmp_path / "s"))
    assert status == 0 and text.splitlines()[-1] == "2 message(s)"  # the U record was torn
    assert segment.read_bytes() == damaged


def test_the_record_names_the_queue_domain_a_policy_gateway_included(tmp_path):
    spool = Spool(str(tmp_path / "s"))
    try:
        envelope = Envelope(mail_from="s@example.org",
                            recipients=[Recipient("a@example.com"), Recipient("b@example.net")],
                            mess_context={"routing_gateway:b@example.net": "Relay.Example:2525"})
        plain, routed = spool.store(envelope, BODY).messages
    finally:
        spool.close()
    assert "Domain: example.com\n" in run("-s", str(tmp_path / "s"), plain.id)[1]
    text = run("-s", str(tmp_path / "s"), routed.id)[1]
    assert "Recipient: b@example.net\n" in text and "Domain: relay.example:2525\n" in text
