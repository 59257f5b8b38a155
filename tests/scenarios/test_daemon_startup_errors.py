"""Scenario: the daemon refuses to start with a clear one-line reason and the documented exit
status (2 bad config, 1 everything else), and never leaves a pidfile behind when it refuses.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest

from tests.helpers.daemon import run_ecelerity, start_daemon

BASE = 'Spoolbase = "var/spool"\nPidfile = "var/run/ecelerity.pid"\n'


def write(tmp_path, text: str) -> None:
    (tmp_path / "ecelerity.conf").write_text(text)


def start(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    return run_ecelerity(["-c", "ecelerity.conf", "--foreground", *extra], tmp_path)


def test_invalid_config_exits_2_with_every_error_on_stderr(tmp_path):
    write(tmp_path, BASE + "Max_Outbund_Connections = 5\nDomain \"x\" {\n")
    result = start(tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "ecelerity.conf:5:1: unexpected end of file: '{' opened at ecelerity.conf:4:12 is not closed")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var").exists()

    write(tmp_path, BASE + "Max_Outbund_Connections = 5\n")
    result = start(tmp_path)
    assert result.returncode == 2
    assert ("ecelerity.conf:3:1: unknown option 'Max_Outbund_Connections' "
            "(did you mean 'Max_Outbound_Connections'?)") in result.stderr.splitlines()


def test_check_validates_and_exits(tmp_path):
    write(tmp_path, BASE)
    ok = start(tmp_path, "--check")
    assert ok.returncode == 0, ok.stderr
    assert "configuration 'ecelerity.conf' is valid" in ok.stderr
    assert not (tmp_path / "var").exists()  # --check creates nothing
    write(tmp_path, BASE + "bogus_option = 1\n")
    assert start(tmp_path, "--check").returncode == 2
    missing = run_ecelerity(["-c", "nope.conf", "--check"], tmp_path)
    assert missing.returncode == 2 and "nope.conf" in missing.stderr


def test_control_socket_under_a_regular_file_is_a_clean_error(tmp_path):
    (tmp_path / "afile").write_text("not a directory\n")
    write(tmp_path, BASE + 'Control_Listener { Listen "afile/control.sock" { } }\n')
    result = start(tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ecelerity: cannot listen on control socket 'afile/control.sock': Not a directory")
    assert not (tmp_path / "var/run/ecelerity.pid").exists()
    assert "start-up failed: cannot listen on control socket" in (tmp_path / "var/log/paniclog.ec").read_text()


def test_tcp_control_port_in_use_names_the_address(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        write(tmp_path, BASE + f'Control_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')
        result = start(tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ecelerity: cannot listen on control address 127.0.0.1:{port}: Address already in use")


def test_control_socket_of_a_running_daemon_is_in_use_and_stale_socket_is_replaced(tmp_path):
    with start_daemon(BASE, tmp_path / "first") as first:
        second = tmp_path / "second"
        second.mkdir()
        write(second, BASE + f'Control_Listener {{ Listen "{first.control_address}" {{ }} }}\n')
        result = start(second)
        assert result.returncode == 1
        assert "Address already in use" in result.stderr and first.control_address in result.stderr
        assert first.command("pid").body == [str(first.pid)]
        first.proc.kill()  # dies without cleaning up: its socket file stays behind
        first.proc.wait(5)
        assert os.path.exists(first.control_address)
        with start_daemon(BASE + f'Control_Listener {{ Listen "{first.control_address}" {{ }} }}\n',
                          second, complete=False) as replacement:
            assert replacement.command("pid").body == [str(replacement.pid)]


def test_pidfile_naming_a_live_process_refuses_and_a_stale_one_is_replaced(tmp_path):
    pidfile = tmp_path / "var/run/ecelerity.pid"
    pidfile.parent.mkdir(parents=True)
    pidfile.write_text(f"{os.getpid()}\n")  # this test process is alive
    write(tmp_path, BASE)
    result = start(tmp_path)
    assert result.returncode == 1
    assert f"names running process {os.getpid()}" in result.stderr
    assert pidfile.read_text() == f"{os.getpid()}\n"

    dead = subprocess.Popen(["true"])
    dead.wait()
    pidfile.write_text(f"{dead.pid}\n")
    with start_daemon(BASE, tmp_path) as daemon:
        assert pidfile.read_text() == f"{daemon.pid}\n"
        other = tmp_path / "other"
        other.mkdir()
        write(other, 'Spoolbase = "var/spool"\n'
                     f'Pidfile = "{pidfile}"\nControl_Listener {{ Listen "./c.sock" {{ }} }}\n')
        refused = start(other)
        assert refused.returncode == 1
        assert f"pidfile '{pidfile}' is held by running process {daemon.pid}" in refused.stderr
        assert daemon.stop() == 0
    assert not pidfile.exists()


def _unwritable_dir(tmp_path) -> str:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return str(locked)
    for candidate in ("/sys/kernel", "/sys"):  # read-only even for root
        try:
            os.close(os.open(os.path.join(candidate, ".ecelerity-probe"), os.O_CREAT | os.O_WRONLY))
        except OSError:
            return candidate
    pytest.skip("running as root and no read-only directory found")


def test_unwritable_spool_is_a_clean_error(tmp_path):
    spool = _unwritable_dir(tmp_path)
    write(tmp_path, f'Spoolbase = "{spool}"\nPidfile = "var/run/ecelerity.pid"\n')
    result = start(tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"ecelerity: spool directory '{spool}' is not writable: ")
    (tmp_path / "plain").write_text("")
    write(tmp_path, 'Spoolbase = "plain/spool"\n')
    result = start(tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "ecelerity: cannot create spool directory 'plain/spool': Not a directory"


def test_without_foreground_it_detaches_and_reports_errors_through_the_parent(tmp_path):
    write(tmp_path, BASE + 'Control_Listener { Listen "var/run/c.sock" { } }\n')
    result = run_ecelerity(["-c", "ecelerity.conf"], tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    pid = int((tmp_path / "var/run/ecelerity.pid").read_text())
    try:
        from ecelerity.control.client import run_command

        assert run_command(str(tmp_path / "var/run/c.sock"), "pid").body == [str(pid)]
        assert os.getsid(pid) != os.getsid(0)  # detached into a session of its own
    finally:
        os.kill(pid, 15)
    deadline = time.monotonic() + 15
    while (tmp_path / "var/run/ecelerity.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / "var/run/ecelerity.pid").exists()

    (tmp_path / "afile").write_text("")
    write(tmp_path, BASE + 'Control_Listener { Listen "afile/c.sock" { } }\n')
    failed = run_ecelerity(["-c", "ecelerity.conf"], tmp_path, timeout=30)
    assert failed.returncode == 1
    assert failed.stderr.strip() == "ecelerity: cannot listen on control socket 'afile/c.sock': Not a directory"
