"""Scenario: SMTP in -> opendkim signs at data_spool -> the sink gets a message the real
OpenDKIM verifies; headers added by Sieve are signed; sign_condition and opendkim_sign
(per domain) decide; ``signing_stats`` counts; a missing key file fails the module load
with the stanza's file:line:col while the daemon keeps serving.
"""
from __future__ import annotations

import json
import re
import smtplib

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.opendkim import genkey, opendkim_verify
from tests.helpers.sink import SmtpSink
from tests.scenarios.test_console_queue import wait_for

POLICY = r'''
ec_header_add "X-Policy" "added-by-sieve";
if header :contains "Subject" "sign me" { vctx_mess_set "can_sign" "yes"; }
'''

CONF = """
relay_hosts = ( "127.0.0.0/8" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "dest.test" {{ gateway = "127.0.0.3:{sink}" }}
Domain "nosign.test" {{ gateway = "127.0.0.3:{sink}"  opendkim_sign = false }}
sieve "policy" {{ script data_phase1 {{ source = "policy.siv" }} }}
opendkim "signer" {{
  header_canon = "{hcanon}"  body_canon = "{bcanon}"
  headerlist = ( "from" "to" "subject" "date" "x-policy" )
  key = "{keys}/%{{d}}/%{{s}}.key"
  sign_condition = "can_sign"
  dkim_domain "example.test" {{ selector = "s1" }}
}}
"""


def _send(port: int, rcpt: str, subject: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("a@example.test", [rcpt],
                        f"From: Alice <a@example.test>\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
                        f"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nHello  there\r\n\r\n")


def _by_subject(sink, subject: str) -> bytes:
    return next(m.body for m in sink.messages if f"Subject: {subject}".encode() in m.body)


def _run(tmp_path, hcanon: str, bcanon: str) -> None:
    key = genkey(tmp_path / "keys", "example.test", "s1")
    (tmp_path / "policy.siv").write_text(POLICY)
    port = free_port()
    with SmtpSink("127.0.0.3") as sink, start_daemon(CONF.format(
            port=port, sink=sink.port, keys=tmp_path / "keys", hcanon=hcanon, bcanon=bcanon),
            tmp_path) as daemon:
        _send(port, "b@dest.test", "sign me please")
        _send(port, "c@dest.test", "leave me")
        _send(port, "d@nosign.test", "sign me not: opendkim_sign is false")
        wait_for("3 deliveries", lambda: len(sink.messages) == 3)
        signed = _by_subject(sink, "sign me please")
        assert signed.startswith(b"DKIM-Signature: ") or b"\r\nDKIM-Signature: " in signed
        assert f"c={hcanon}/{bcanon}".encode() in signed and b"x-policy" in signed
        code, err = opendkim_verify(signed, [key])
        assert code == 0, err
        tampered = signed.replace(b"Hello  there", b"Hello there!")
        assert opendkim_verify(tampered, [key])[0] != 0
        assert b"DKIM-Signature" not in _by_subject(sink, "leave me")
        assert b"DKIM-Signature" not in _by_subject(sink, "sign me not")
        reply = daemon.command("signing_stats --json")
        stats = json.loads("\n".join(reply.body))
        assert stats["totals"] == {"signed": 1, "errors": 0, "skipped": 2}
        assert stats["domains"]["example.test"]["signed"] == 1
        assert daemon.command("signing_stats reset").ok
        assert json.loads("\n".join(daemon.command("signing_stats --json").body))["totals"][
            "signed"] == 0


def test_relaxed_signature_verifies_with_opendkim(tmp_path):
    _run(tmp_path, "relaxed", "relaxed")


def test_simple_signature_verifies_with_opendkim(tmp_path):
    _run(tmp_path, "simple", "simple")


def test_missing_key_file_fails_the_module_with_its_location(tmp_path):
    port = free_port()
    conf = (f'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n'
            'opendkim "signer" {\n'
            '  dkim_domain "example.test" { selector = "s1" key = "keys/missing.key" }\n'
            '}\n')
    with start_daemon(conf, tmp_path) as daemon:
        log = daemon.wait_for_paniclog("module failed to load")
        assert re.search(r"ecelerity\.conf:\d+:\d+: dkim_domain 'example\.test': cannot read DKIM "
                         r"key file '\S*keys/missing\.key': No such file", log), log
        assert daemon.command("signing_stats").status == 501
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.noop()[0] == 250   # still serving
