"""Scenario: Sieve++ asks for a DKIM signature (ec_dkim_sign with a hash of overrides) in a
real SMTP session; the module signs at the end of data_spool even though its own
sign_condition is never met, and the real OpenDKIM verifies what the sink received.
ec_dkim_responsible_domain and ec_dkim_domains answer from the message and the stanza.
"""
from __future__ import annotations

import smtplib

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.opendkim import genkey, opendkim_verify
from tests.helpers.sink import SmtpSink
from tests.scenarios.test_console_queue import wait_for

POLICY = r'''
$resp = ec_dkim_responsible_domain;
$domains = ec_dkim_domains;
ec_header_add "X-Dkim-Info" "resp=${resp} domains=${domains}";
if header :contains "Subject" "please sign" {
  hash_create "o";
  hash_set "o" "selector" "s9";
  hash_set "o" "body_canon" "simple";
  ec_dkim_sign "o";
}
'''

CONF = """
relay_hosts = ( "127.0.0.0/8" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "dest.test" {{ gateway = "127.0.0.3:{sink}" }}
sieve "policy" {{ script data_phase1 {{ source = "policy.siv" }} }}
opendkim "signer" {{
  key = "{keys}/%{{d}}/%{{s}}.key"
  sign_condition = "never_set"
  dkim_domain "example.test" {{ selector = "s1" }}
}}
"""


def test_sieve_requests_a_signature_with_overrides(tmp_path):
    genkey(tmp_path / "keys", "example.test", "s1")
    key = genkey(tmp_path / "keys", "example.test", "s9")
    (tmp_path / "policy.siv").write_text(POLICY)
    port = free_port()
    with SmtpSink("127.0.0.3") as sink, start_daemon(
            CONF.format(port=port, sink=sink.port, keys=tmp_path / "keys"), tmp_path):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for subject in ("please sign", "no thanks"):
                client.sendmail("a@example.test", ["b@dest.test"],
                                f"From: A <a@Mail.Example.test>\r\nSender: s@example.test\r\n"
                                f"To: b@dest.test\r\nSubject: {subject}\r\n\r\nbody\r\n")
        wait_for("2 deliveries", lambda: len(sink.messages) == 2)
    signed = next(m.body for m in sink.messages if b"please sign" in m.body)
    unsigned = next(m.body for m in sink.messages if b"no thanks" in m.body)
    assert b"X-Dkim-Info: resp=example.test domains=example.test" in signed
    assert b"s=s9;" in signed and b"c=relaxed/simple" in signed
    assert b"DKIM-Signature" not in unsigned
    code, err = opendkim_verify(signed, [key])
    assert code == 0, err
