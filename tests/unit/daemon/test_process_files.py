"""ecelerity/daemon/process_files.py: the pidfile + paniclog a daemon process holds, and
the one log_exception App and Supervisor share. Real files under tmp_path."""
from __future__ import annotations

import os

import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.daemon.app import App
from ecelerity.daemon.main import RuntimePaths
from ecelerity.daemon.pidfile import PidFileError
from ecelerity.daemon.process_files import PanicLogging, ProcessFiles
from ecelerity.daemon.service import StartupError
from ecelerity.daemon.supervisor import Supervisor
from ecelerity.log.paniclog import PanicLog


def paths(tmp_path) -> RuntimePaths:
    return RuntimePaths(str(tmp_path / "spool"), str(tmp_path / "run/ecelerity.pid"),
                        str(tmp_path / "log/paniclog.ec"), 0o640)


def paniclog_text(tmp_path) -> str:
    return (tmp_path / "log/paniclog.ec").read_text()


def test_app_and_supervisor_log_through_one_implementation():
    for owner in (App, Supervisor):
        assert owner.log is PanicLogging.log
        assert owner.log_exception is PanicLogging.log_exception


def test_log_exception_writes_what_failed_then_the_traceback(tmp_path):
    class Owner(PanicLogging):
        def __init__(self) -> None:
            self.paniclog = PanicLog(str(tmp_path / "p.ec"))

    owner = Owner()
    owner.paniclog.open()
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        owner.log_exception("config", "reload failed", exc)
    owner.paniclog.close()
    lines = (tmp_path / "p.ec").read_text().splitlines()
    assert lines[0].endswith(":config: reload failed: ValueError: bad value")
    assert any("Traceback (most recent call last):" in line for line in lines[1:])
    assert lines[-1].endswith(":config: ValueError: bad value")


def test_open_takes_the_pidfile_and_logs_the_banner_and_config_warnings(tmp_path):
    cfg = load_config_text("")
    cfg.warnings = ["ecelerity.conf:3:1: warning: something odd"]
    files = ProcessFiles(paths(tmp_path))
    files.open("starting ecelerity test", cfg)
    assert (tmp_path / "run/ecelerity.pid").read_text() == f"{os.getpid()}\n"
    files.stopped()
    lines = paniclog_text(tmp_path).splitlines()
    assert [line.split(":", 1)[1] for line in lines] == [
        "ecelerity: starting ecelerity test",
        "config: ecelerity.conf:3:1: warning: something odd",
        "ecelerity: stopped"]
    assert not (tmp_path / "run/ecelerity.pid").exists()
    assert os.stat(tmp_path / "log/paniclog.ec").st_mode & 0o777 == 0o640


def test_a_held_pidfile_refuses_before_the_paniclog_is_opened(tmp_path):
    pidfile = tmp_path / "run/ecelerity.pid"
    pidfile.parent.mkdir()
    pidfile.write_text(f"{os.getppid()}\n")   # a live process that is not us
    with pytest.raises(PidFileError):
        ProcessFiles(paths(tmp_path)).open("starting", load_config_text(""))
    assert pidfile.read_text() == f"{os.getppid()}\n"
    assert not (tmp_path / "log/paniclog.ec").exists()


def test_a_startup_error_is_logged_as_its_reason_and_closes_both_files(tmp_path):
    files = ProcessFiles(paths(tmp_path))
    files.open("starting", load_config_text(""))
    line = files.startup_failed(StartupError("cannot listen on 127.0.0.1:25: in use"))
    assert line == "cannot listen on 127.0.0.1:25: in use"
    assert "ecelerity: start-up failed: cannot listen on 127.0.0.1:25: in use" in paniclog_text(tmp_path)
    assert "Traceback" not in paniclog_text(tmp_path)
    assert not (tmp_path / "run/ecelerity.pid").exists()


def test_an_internal_error_leaves_its_traceback_in_the_paniclog_only(tmp_path):
    files = ProcessFiles(paths(tmp_path))
    files.open("starting", load_config_text(""))
    try:
        {}["missing"]
    except KeyError as exc:
        line = files.startup_failed(exc)
    assert line == (f"internal error during start-up: 'missing' "
                    f"(traceback in {tmp_path / 'log/paniclog.ec'})")
    text = paniclog_text(tmp_path)
    assert "Traceback (most recent call last):" in text and "KeyError: 'missing'" in text
    assert "Traceback" not in line
    assert not (tmp_path / "run/ecelerity.pid").exists()
