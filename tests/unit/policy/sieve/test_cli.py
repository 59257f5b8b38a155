"""Offline tester: policy/sieve/cli.py run as a real process (python -m ecelerity.policy.sieve)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
MESSAGE = b"From: a@example.com\r\nSubject: Offer\r\n\r\nbuy now\r\n"


def sieve_test(tmp_path, script: str, *extra: str):
    (tmp_path / "s.sieve").write_text(script)
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    return subprocess.run(
        [sys.executable, "-m", "ecelerity.policy.sieve", "test", str(tmp_path / "s.sieve"),
         str(tmp_path / "m.eml"), "--from", "a@example.com", "--to", "b@example.org", *extra],
        capture_output=True, text=True, cwd=REPO, timeout=60)


def test_json_actions(tmp_path):
    proc = sieve_test(tmp_path, 'require ["fileinto", "imap4flags"];\n'
                      'if header :contains "subject" "offer" { fileinto :flags "\\\\Seen" "Ads"; }',
                      "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"error": None, "actions": [
        {"action": "fileinto", "mailbox": "Ads", "flags": ["\\Seen"]}]}


def test_compile_error_exit_2_and_location_on_stderr(tmp_path):
    proc = sieve_test(tmp_path, "keep;\nfrob;", "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout) == {"error": "compile", "actions": []}
    assert f"{tmp_path / 's.sieve'}:2:1: unknown command 'frob'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_runtime_error_form(tmp_path):
    proc = sieve_test(tmp_path, 'require "reject"; keep; reject "no";', "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"error": "runtime", "actions": [{"action": "keep", "implicit": True}]}
    assert "runtime error: reject/ereject action conflicts" in proc.stderr


def test_human_output(tmp_path):
    proc = sieve_test(tmp_path, 'redirect :copy "x@example.net";'.replace(":copy ", ""))
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[:4] == [
        "result: ok", "  redirect 'x@example.net'",
        "reply (data): 250 (accepted by this policy; the phase goes on)",
        "recipients x@example.net"]


def test_list_functions_names_what_exists_and_what_is_missing(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ecelerity.policy.sieve", "--list-functions"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    lines = proc.stdout.splitlines()
    assert "function generate_mail_raw" in lines and "function ec_dns_lookup" in lines
    assert any(line.startswith("missing ec_dk_sign: ") for line in lines)


def test_phase_rcptto_rejects_with_550_and_sees_no_message(tmp_path):
    proc = sieve_test(tmp_path, 'require "reject";\n'
                      'if not exists "Subject" { reject "no rcpt for you"; }', "--phase", "rcptto")
    assert proc.returncode == 0, proc.stderr
    assert "reply (rcptto): 550 5.7.1 no rcpt for you" in proc.stdout.splitlines()


def test_phase_data_reject_accepts_and_notifies_the_sender(tmp_path):
    proc = sieve_test(tmp_path, 'ec_reject "spam";')
    lines = proc.stdout.splitlines()
    assert "reply (data): 250 2.0.0 OK (discarded, rejection notice sent)" in lines
    assert any(line.startswith("inject <> -> a@example.com (") for line in lines)


def test_set_binding_only_in_its_phase_and_peer_is_the_client_ip(tmp_path):
    script = 'ec_set_binding "b1"; $ip = vctx_conn_get "peer_ip"; vctx_mess_set "ip" $ip;'
    proc = sieve_test(tmp_path, script, "--phase", "set_binding", "--peer", "192.0.2.44")
    assert "binding b1 group" in proc.stdout and "context mess ip = 192.0.2.44" in proc.stdout
    proc = sieve_test(tmp_path, script, "--phase", "data", "--json")
    assert proc.returncode == 1
    assert "only valid in the set_binding phase" in proc.stderr
    assert json.loads(proc.stdout) == {"error": "runtime", "actions": [{"action": "keep", "implicit": True}]}
