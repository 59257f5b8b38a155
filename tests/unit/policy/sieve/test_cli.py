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
    assert proc.stdout.splitlines() == ["result: ok", "  redirect 'x@example.net'"]
