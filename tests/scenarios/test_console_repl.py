"""Scenario: the ec_console REPL on a pty against a daemon holding queued mail: tab completion
of queued domain names after domain-taking commands, and \\pager piping long replies through
$PAGER (a real sed here, so its output shows it ran).
"""
from __future__ import annotations

import os
import subprocess

from tests.helpers.daemon import console_command, daemon_env, free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.test_console_queue import as_json, inject, wait_for
from tests.scenarios.test_ec_console_against_daemon import read_until

CONF = """
relay_hosts = ( "127.0.0.0/8" )
retry_interval = 600
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "zebra.test" {{ gateway = "127.0.0.2:{slow}" }}
Domain "zeta.test" {{ gateway = "127.0.0.2:{slow}" }}
"""


def test_repl_completes_queued_domains_and_pages(tmp_path):
    port = free_port()
    with SmtpSink("127.0.0.2", dot_default="451 4.3.0 try later") as slow, \
            start_daemon(CONF.format(port=port, slow=slow.port), tmp_path) as daemon:
        inject(port, ["a@zebra.test", "b@zeta.test", "c@zeta.test"])
        wait_for("both domains queued", lambda: {r["domain"] for r in as_json(
            daemon, "mailq --limit 0")["QueueSummary"]} >= {"zebra.test", "zeta.test"})
        master, slave = os.openpty()
        env = daemon_env({"HOME": str(tmp_path), "TERM": "dumb", "LINES": "10", "COLUMNS": "100",
                          "PAGER": "sed s/^/PAGED:/"})
        proc = subprocess.Popen(console_command(daemon.control_address), stdin=slave, stdout=slave,
                                stderr=slave, env=env, close_fds=True)
        os.close(slave)
        prompt = f"ecelerity({daemon.control_address})> ".encode()

        def run(keys: bytes) -> bytes:
            os.write(master, keys)
            return read_until(master, prompt)

        try:
            read_until(master, prompt)
            assert b"To: <a@zebra.test>" in run(b"showqueue zeb\t\n")  # one candidate: completed
            os.write(master, b"flush domain ze\t\t")  # two candidates: listed
            listing = read_until(master, b"zeta.test")
            assert b"zebra.test" in listing and b"zeta.test" in listing
            # readline redraws the prompt and the line after the list: consume it, or the
            # next read would stop at that redrawn prompt
            redraw = listing.split(b"zeta.test", 1)[1]
            while b"> flush domain ze" not in redraw:
                redraw += read_until(master, b"ze", timeout=5)
            flushed = run(b"t\t\n")  # "zet" + tab -> zeta.test
            assert b"2 message(s) scheduled for delivery now for zeta.test" in flushed
            plain = run(b"help\n")
            assert b"version" in plain and b"PAGED:" not in plain
            assert b"paging on (sed s/^/PAGED:/)" in run(b"\\pager on\n")
            paged = run(b"help\n")
            assert b"PAGED:version" in paged and paged.count(b"PAGED:") > 20
            short = run(b"pid\n")  # shorter than the terminal: not paged
            assert f"\n{daemon.pid}\r\n".encode() in short and b"PAGED:" not in short
            assert b"paging off" in run(b"\\pager\n")
            os.write(master, b"quit\n")
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        history = (tmp_path / ".ec_console_history").read_text()
        assert "showqueue zebra.test" in history and "flush domain zeta.test" in history
