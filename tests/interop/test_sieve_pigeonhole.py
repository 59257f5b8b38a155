"""Differential test: our Sieve engine vs Dovecot Pigeonhole's ``sieve-test``.

Each case in sieve_cases.py runs through both engines; their action lists are
normalised to the offline tester's JSON form and must be equal. Needs ``sieve-test``
(Debian dovecot-sieve + dovecot-core); skips without it (fails under CI=true).
"""
from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from ecelerity.policy.sieve import MessageView, SieveCompileError, compile_script, run_script
from tests.helpers.tools import need_tool

_spec = importlib.util.spec_from_file_location(
    "sieve_cases", os.path.join(os.path.dirname(__file__), "sieve_cases.py"))
sieve_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sieve_cases)

# Why a case may differ from Pigeonhole, by id (every entry is explained here).
KNOWN_DIFFERENCES: dict[str, str] = {}


@pytest.fixture(scope="module")
def pigeonhole():
    tool = need_tool("sieve-test")
    # sieve-test drops to mail_uid; as root that must be an unprivileged user who can read here
    workdir = tempfile.mkdtemp(prefix="sieve-diff-")
    os.chmod(workdir, 0o777)
    user = "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    group = "nogroup" if os.getuid() == 0 else None
    conf = os.path.join(workdir, "dovecot.conf")
    lines = [f"mail_uid = {user}", "first_valid_uid = 0", "first_valid_gid = 0",
             f"mail_location = maildir:{workdir}/mail", "protocols =", "ssl = no",
             "plugin {", f"  sieve = file:{workdir}/scripts;active={workdir}/scripts/.active.sieve",
             f"  sieve_global = {workdir}/scripts", "}"]
    if group:
        lines.insert(1, f"mail_gid = {group}")
    with open(conf, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(conf, 0o644)
    yield tool, conf, workdir
    shutil.rmtree(workdir, ignore_errors=True)


def parse_pigeonhole(stdout: str) -> list[dict]:
    """Turn sieve-test's 'Performed actions' / 'Implicit keep' report into normalised actions."""
    actions: list[dict] = []
    section = None
    for line in stdout.splitlines():
        text = line.strip()
        if text == "Performed actions:":
            section = "performed"
        elif text == "Implicit keep:":
            section = "implicit"
        elif text.startswith("* ") and section:
            item = text[2:]
            if item.startswith("store message in folder: "):
                folder = item[len("store message in folder: "):]
                entry = {"action": "keep"} if folder == "INBOX" else {"action": "fileinto", "mailbox": folder}
                if section == "implicit":
                    entry["implicit"] = True
            elif item.startswith("redirect message to: "):
                entry = {"action": "redirect", "address": item[len("redirect message to: "):].strip("<>")}
            elif item.startswith("reject message with reason: "):
                entry = {"action": "reject", "reason": item[len("reject message with reason: "):]}
            elif item == "discard":
                entry = {"action": "discard"}
            else:
                entry = {"action": "unknown", "text": item}
            actions.append(entry)
        elif text.startswith("+ add IMAP flags: ") and actions:
            actions[-1]["flags"] = text[len("+ add IMAP flags: "):].split()
    return actions


def comparable(actions: list[dict]) -> list[dict]:
    out = []
    for action in actions:
        action = dict(action)
        if "flags" in action:
            action["flags"] = sorted(f.lower() for f in action["flags"])
        out.append(action)
    return out


def run_case(pigeonhole, case_id, script, message, env_from, env_to, extra):
    tool, conf, workdir = pigeonhole
    scripts = os.path.join(workdir, "scripts", case_id)
    os.makedirs(scripts, exist_ok=True)
    os.chmod(scripts, 0o777)
    for name, source in {**extra, "main": script}.items():
        path = os.path.join(scripts, name + ".sieve")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(source)
        os.chmod(path, 0o666)
    msg_path = os.path.join(scripts, "message.eml")
    with open(msg_path, "wb") as handle:
        handle.write(sieve_cases.MESSAGES[message].encode())
    os.chmod(msg_path, 0o644)
    # our engine: personal and global include dirs are the script's directory
    main = os.path.join(scripts, "main.sieve")
    try:
        compiled = compile_script(script, main)
    except SieveCompileError:
        ours = {"error": "compile", "actions": []}
    else:
        raw = sieve_cases.MESSAGES[message].encode()
        ours = run_script(compiled, MessageView(raw, env_from, env_to)).as_json()
    # Pigeonhole: personal includes resolve against the configured sieve dir
    with open(conf) as handle:
        base_conf = handle.read()
    case_conf = os.path.join(scripts, "dovecot.conf")
    with open(case_conf, "w") as handle:
        handle.write(base_conf.replace(f"{workdir}/scripts", scripts))
    os.chmod(case_conf, 0o644)
    argv = [tool, "-C", "-c", case_conf, "-f", env_from or "<>", "-r", env_to, main, msg_path]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if proc.returncode == 89 and "failed to compile" in proc.stderr:
        theirs = {"error": "compile", "actions": []}
    elif proc.returncode == 1 and "final result: failed" in proc.stderr:
        theirs = {"error": "runtime", "actions": [{"action": "keep", "implicit": True}]}
    elif proc.returncode == 0:
        theirs = {"error": None, "actions": parse_pigeonhole(proc.stdout)}
    else:
        pytest.fail(f"sieve-test exited {proc.returncode}: {proc.stderr.strip()}")
    return ours, theirs, proc


@pytest.mark.parametrize("case_id, script, message, env_from, env_to, extra", sieve_cases.CASES,
                         ids=[c[0] for c in sieve_cases.CASES])
def test_same_actions_as_pigeonhole(pigeonhole, case_id, script, message, env_from, env_to, extra):
    ours, theirs, proc = run_case(pigeonhole, case_id, script, message, env_from, env_to, extra)
    if case_id in KNOWN_DIFFERENCES:
        pytest.xfail(KNOWN_DIFFERENCES[case_id])
    assert ours["error"] == theirs["error"], (ours, theirs, proc.stdout, proc.stderr)
    assert comparable(ours["actions"]) == comparable(theirs["actions"]), (proc.stdout, proc.stderr)


def test_enough_cases():
    assert len(sieve_cases.CASES) >= 60
