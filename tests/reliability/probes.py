"""Observation helpers for the reliability tests: spool state, open fds, RSS, mainlog.

    state = spool_state(daemon.cwd / "var" / "spool")   # after the daemon stopped
    socket_fds(daemon.pid), rss_kib(daemon.pid)

``spool_state`` reads a spool in a child process (the test process never imports the
daemon's gevent world) and returns one dict per spooled recipient: batch id, id,
mail_from, recipient, retries, last_error, bytes. Nothing here decides an outcome.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parents[2]

_READER = r"""
import json, sys
from ecelerity.core.spool import Spool
sp = Spool(sys.argv[1], fsync=False)
report = sp.load_all(repair=False)
out = []
for m in sorted(sp.messages(), key=lambda m: (m.segment, m.data_offset)):
    out.append({"batch_id": m.batch_id, "id": m.id, "mail_from": m.envelope.mail_from,
                "rcpt": m.recipient.address, "retries": m.retries,
                "last_error": m.last_error, "data": sp.read_body(m).decode("latin-1")})
print(json.dumps({"messages": out, "quarantined": [str(q) for q in report.quarantined]}))
"""


def spool_state(spool_dir: Path | str) -> dict:
    """{"messages": [...], "quarantined": [...]} of a spool no process is writing."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-c", _READER, str(spool_dir)], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def socket_fds(pid: int) -> int:
    """How many sockets the process holds open right now."""
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def rss_kib(pid: int) -> int:
    """VmRSS of the process in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             diagnostics: Callable[[], str] = lambda: "") -> object:
    """Poll until predicate() is truthy; return its value or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{diagnostics()}")
        time.sleep(0.05)


def log_lines(cwd: Path, name: str = "mainlog") -> list[str]:
    """Lines of every file called ``name*`` under cwd/var/log (empty when none is written)."""
    lines: list[str] = []
    for path in sorted((Path(cwd) / "var" / "log").rglob(f"{name}*")):
        if path.is_file():
            lines += path.read_text(errors="replace").splitlines()
    return lines
