"""Scenario: ec_console against a running daemon: one-shot, batch on stdin, TCP, exit statuses,
and the interactive REPL on a pty with tab completion.
"""
from __future__ import annotations

import os
import select
import subprocess
import time

from tests.helpers.daemon import console_command, daemon_env, free_port, start_daemon


def test_one_shot_batch_and_exit_statuses(tmp_path):
    port = free_port()
    config = ('Spoolbase = "var/spool"\nPidfile = "var/run/e.pid"\nMax_Outbound_Connections = 6\n'
              f'Control_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')
    with start_daemon(config, tmp_path, complete=False) as daemon:
        assert daemon.control_address == f"127.0.0.1:{port}"
        ok = daemon.console("config", "eval", "max_outbound_connections")
        assert (ok.returncode, ok.stdout, ok.stderr) == (0, "max_outbound_connections = 6\n", "")

        unknown = daemon.console("no such command")
        assert unknown.returncode == 1
        assert unknown.stderr == "ec_console: 404 unknown command 'no such command'; try 'help'\n"

        batch = subprocess.run(console_command(daemon.control_address), input="pid\n\n# note\nversion\n",
                               capture_output=True, text=True, env=daemon_env(), timeout=20)
        assert batch.returncode == 0
        assert batch.stdout.splitlines()[0] == str(daemon.pid)
        assert batch.stdout.splitlines()[1].startswith("ecelerity version: ")

        failing = subprocess.run(console_command(daemon.control_address), input="pid\nbogus\npid\n",
                                 capture_output=True, text=True, env=daemon_env(), timeout=20)
        assert failing.returncode == 1
        assert failing.stdout.splitlines() == [str(daemon.pid), str(daemon.pid)]
        assert daemon.stop() == 0

    nobody = subprocess.run(console_command(str(tmp_path / "none.sock"), "pid"),
                            capture_output=True, text=True, env=daemon_env(), timeout=20)
    assert nobody.returncode == 2
    assert nobody.stderr.startswith(f"ec_console: cannot talk to the daemon at {tmp_path}/none.sock: ")


def read_until(fd: int, needle: bytes, timeout: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} never came; got {seen!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def test_interactive_repl_completes_command_names_on_a_pty(tmp_path):
    with start_daemon('Spoolbase = "var/spool"\nMax_Outbound_Connections = 4\n', tmp_path) as daemon:
        master, slave = os.openpty()
        env = daemon_env({"HOME": str(tmp_path), "TERM": "dumb"})
        proc = subprocess.Popen(console_command(daemon.control_address), stdin=slave, stdout=slave,
                                stderr=slave, env=env, close_fds=True)
        os.close(slave)
        try:
            assert b"ecelerity version: " in read_until(master, b"> ")
            os.write(master, b"confi\tev\tmax_outbound_connections\n")
            assert b"max_outbound_connections = 4" in read_until(master, b"= 4")
            os.write(master, b"quit\n")
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        assert "config eval max_outbound_connections" in (tmp_path / ".ec_console_history").read_text()
