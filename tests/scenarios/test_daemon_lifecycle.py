"""Scenario: a running daemon reloads on SIGHUP (keeping the old config when the new file
is broken), reopens its paniclog on SIGUSR1, and exits 0 on SIGTERM removing its pidfile.
"""
from __future__ import annotations

import os
import re
import signal

from tests.helpers.daemon import start_daemon

# Own first line, so the syntax error below is at a known line:column.
CONFIG = """Max_Outbound_Connections = {value}
Spoolbase = "var/spool"
Pidfile = "var/run/ecelerity.pid"
"""


def eval_max_outbound(daemon) -> str:
    result = daemon.console("config eval max_outbound_connections")
    assert result.returncode == 0, result.stderr
    return result.stdout


def set_first_line(daemon, line: str) -> None:
    lines = daemon.config_path.read_text().splitlines(keepends=True)
    lines[0] = line + "\n"
    daemon.write_config("".join(lines))


def test_sighup_keeps_old_config_on_error_then_applies_new_one_and_sigterm_exits_0(tmp_path):
    with start_daemon(CONFIG.format(value=17), tmp_path) as daemon:
        assert daemon.pidfile.read_text().strip() == str(daemon.pid)
        assert eval_max_outbound(daemon) == "max_outbound_connections = 17\n"

        set_first_line(daemon, "Max_Outbound_Connections = 5 }")
        daemon.signal(signal.SIGHUP)
        log = daemon.wait_for_paniclog("reload failed")
        assert re.search(r"^\d+:config: reload failed: ecelerity\.conf:1:30: unexpected '\}'", log, re.M), log
        assert daemon.alive()
        assert eval_max_outbound(daemon) == "max_outbound_connections = 17\n"

        set_first_line(daemon, "Max_Outbound_Connections = 23")
        daemon.signal(signal.SIGHUP)
        daemon.wait_for_paniclog(re.compile(r"^\d+:config: reload ok \(SIGHUP\)$", re.M))
        assert eval_max_outbound(daemon) == "max_outbound_connections = 23\n"

        control_socket = daemon.control_address
        assert daemon.stop() == 0
        assert not daemon.pidfile.exists()
        log = daemon.paniclog_text()
        assert re.search(r"^\d+:ecelerity: shutdown requested: SIGTERM$", log, re.M), log
        assert log.rstrip().endswith(":ecelerity: stopped")
        assert not os.path.exists(control_socket)


def test_console_config_reload_reports_every_error_and_keeps_running(tmp_path):
    with start_daemon(CONFIG.format(value=8), tmp_path) as daemon:
        text = daemon.config_path.read_text()
        daemon.write_config(text.replace("Max_Outbound_Connections = 8",
                                         "Max_Outbund_Connections = 9\nMax_Outbound_Connections = abc"))
        result = daemon.console("config reload")
        assert result.returncode == 1
        assert result.stdout.splitlines() == [
            "Reconfigure failed",
            "ecelerity.conf:1:1: unknown option 'Max_Outbund_Connections' "
            "(did you mean 'Max_Outbound_Connections'?)",
            "ecelerity.conf:2:28: option 'Max_Outbound_Connections': expected an integer >= 0, got 'abc'",
        ]
        assert "550 Reconfigure failed" in result.stderr
        assert eval_max_outbound(daemon) == "max_outbound_connections = 8\n"

        daemon.write_config(text.replace("Max_Outbound_Connections = 8", "Max_Outbound_Connections = 12"))
        result = daemon.console("config reload")
        assert result.returncode == 0
        first, *warnings = result.stdout.splitlines()
        assert first == "reload ok"
        assert all(": warning: " in line for line in warnings), warnings
        assert eval_max_outbound(daemon) == "max_outbound_connections = 12\n"


def test_sigusr1_reopens_the_paniclog_after_rotation(tmp_path):
    with start_daemon(CONFIG.format(value=1), tmp_path) as daemon:
        daemon.wait_for_paniclog(":ecelerity: started")
        rotated = daemon.paniclog.with_name("paniclog.ec.1")
        daemon.paniclog.rename(rotated)
        daemon.signal(signal.SIGUSR1)
        fresh = daemon.wait_for_paniclog("logs reopened")
        assert re.fullmatch(r"\d+:ecelerity: logs reopened\n", fresh), fresh
        daemon.signal(signal.SIGHUP)
        daemon.wait_for_paniclog("reload ok")
        old = rotated.read_text()
        assert "started" in old and "reload ok" not in old and "logs reopened" not in old

        result = daemon.console("reopen logs")
        assert (result.returncode, result.stdout) == (0, "logs reopened\n")
        assert daemon.stop() == 0


def test_sigint_and_shutdown_command_both_exit_0(tmp_path):
    with start_daemon(CONFIG.format(value=1), tmp_path / "a") as first:
        first.signal(signal.SIGINT)
        assert first.wait() == 0
        assert not first.pidfile.exists()
    with start_daemon(CONFIG.format(value=1), tmp_path / "b") as second:
        result = second.console("shutdown")
        assert (result.returncode, result.stdout) == (0, "shutting down\n")
        assert second.wait() == 0
        assert "shutdown requested: console" in second.paniclog_text()
