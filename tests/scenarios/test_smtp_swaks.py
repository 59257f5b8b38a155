"""Interop with swaks (a client nobody here wrote): plain, PIPELINING with an 8-bit body, a refusal."""
from __future__ import annotations

import subprocess

from tests.helpers.tools import need_tool
from tests.scenarios.smtp_harness import read_spool, smtp_listener

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener { Listen "127.0.0.1:0" { } }
"""


def swaks(port, *args):
    return subprocess.run([need_tool("swaks"), "--server", "127.0.0.1", "--port", str(port),
                           "--helo", "swaks.test", *args], capture_output=True, text=True, timeout=60)


def test_swaks_interop(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        plain = swaks(lst.port, "--from", "a@b.org", "--to", "x@example.com",
                      "--header", "Subject: plain")
        piped = swaks(lst.port, "--pipeline", "--from", "a@b.org", "--to", "y@example.com",
                      "--body", "caf\u00e9 8bit body", "--header", "Subject: piped")
        refused = swaks(lst.port, "--from", "a@b.org", "--to", "victim@elsewhere.test")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "<-  250 2.0.0 OK " in plain.stdout
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert "PIPELINING" in piped.stdout
    assert refused.returncode != 0 and "550 5.7.1 relaying denied" in refused.stdout
    batches = read_spool(lst.spool_dir)
    assert [r for _, _, r in batches] == [["x@example.com"], ["y@example.com"]]
    assert "café 8bit body".encode() in batches[1][1]
