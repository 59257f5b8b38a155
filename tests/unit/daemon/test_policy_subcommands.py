"""`ecelerity sieve ...` and `ecelerity lua ...` reach the offline policy testers."""
from __future__ import annotations

import json

from ecelerity.daemon.main import main


def test_ecelerity_sieve_test_prints_the_actions(tmp_path, capsys):
    script = tmp_path / "s.siv"
    script.write_text('require "fileinto";\nif header :contains "subject" "x" { fileinto "X"; }\n')
    message = tmp_path / "m.eml"
    message.write_bytes(b"Subject: x\r\n\r\nhi\r\n")
    status = main(["sieve", "test", str(script), str(message), "--from", "a@b.test",
                   "--to", "c@d.test", "--json"])
    assert status == 0
    assert json.loads(capsys.readouterr().out) == {
        "error": None, "actions": [{"action": "fileinto", "mailbox": "X"}]}


def test_ecelerity_sieve_compile_error_is_status_2(tmp_path, capsys):
    script = tmp_path / "bad.siv"
    script.write_text('if header :is "a" { keep; }\n')
    message = tmp_path / "m.eml"
    message.write_bytes(b"Subject: x\r\n\r\nhi\r\n")
    assert main(["sieve", "test", str(script), str(message), "--json"]) == 2
    assert "bad.siv:1:" in capsys.readouterr().err


def test_ecelerity_lua_lists_its_functions(capsys):
    assert main(["lua", "--list-functions"]) == 0
    names = capsys.readouterr().out.split()
    assert "msys.registerModule" in names and "msys.pcre.match" in names
