"""The offline tester, run as a real process."""
import subprocess
import sys

import pytest

from ecelerity.policy.lua import available_engines

POLICY = r"""
local mod = {}
function mod:validate_mailfrom(str, accept, vctx)
  print("sender", str)
  return msys.core.VALIDATE_CONT
end
function mod:validate_rcptto(msg, str, accept, vctx)
  if msys.pcre.match(str, "@blocked\\.example>", "i") then
    vctx:set_code(550, "5.7.1 blocked domain")
    return msys.core.VALIDATE_DONE
  end
  vctx:set(msys.core.VCTX_MESS, "checked", "yes")
  return msys.core.VALIDATE_CONT
end
function mod:validate_data_spool_each_rcpt(msg, accept, vctx)
  msg:header("X-Policy", "checked")
  return msys.core.VALIDATE_CONT
end
msys.registerModule("pol", mod)
"""


def run_tester(*args):
    return subprocess.run([sys.executable, "-m", "ecelerity.policy.lua", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "pol.lua").write_text(POLICY)
    (tmp_path / "m.eml").write_bytes(b"From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n")
    return str(tmp_path / "pol.lua"), str(tmp_path / "m.eml")


@pytest.mark.parametrize("engine", available_engines())
def test_accepted_message_shows_each_hook(files, engine):
    done = run_tester("test", *files, "--from", "a@b.example", "--to", "c@ok.example",
                  "--engine", engine)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "print: sender\tMAIL FROM:<a@b.example>" in out
    assert "pol:validate_rcptto -> CONT (0)" in out
    assert "vctx mess.checked = 'yes'" in out
    assert "X-Policy: checked" in out and out.rstrip().endswith("result: accepted")


def test_rejected_recipient(files):
    done = run_tester("test", *files, "--from", "a@b.example", "--to", "c@BLOCKED.example")
    assert done.returncode == 1
    assert "pol:validate_rcptto -> DONE" in done.stdout
    assert "reply: 550 5.7.1 blocked domain" in done.stdout
    assert "validate_data_spool_each_rcpt" not in done.stdout.split("modules:")[1].split("\n", 1)[1]


def test_script_error_and_list_functions(tmp_path, files):
    bad = tmp_path / "bad.lua"
    bad.write_text("msys.registerModule('b', {validate_connect = function() error('oops') end})")
    done = run_tester("test", str(bad), files[1], "--to", "x@y")
    assert done.returncode == 2 and "script error: b:validate_connect: bad.lua:1: oops" in done.stdout
    listing = run_tester("--list-functions").stdout.split()
    assert "msys.pcre.match" in listing and "json.encode" in listing
    assert "mod:validate_rcptto(msg," in listing
    assert "msg:get_delivery_method" in listing and "msg:is_mcmt" in listing


def test_offline_tester_answers_delivery_method_and_mcmt(tmp_path, files):
    script = tmp_path / "method.lua"
    script.write_text("msys.registerModule('m', {validate_data = function(self, msg, ac, vctx)\n"
                      "  print('method=' .. msg:get_delivery_method() .. ' mcmt=' .. "
                      "tostring(msg:is_mcmt()))\n  return msys.core.VALIDATE_CONT end})")
    done = run_tester("test", str(script), files[1], "--to", "x@y.example")
    assert done.returncode == 0 and "method=esmtp mcmt=false" in done.stdout
