"""ecelerity/daemon/app.py and signals.py: service order, reload swap, failed reload, signals."""
from __future__ import annotations

import os
import signal
import time

import gevent
import pytest

from ecelerity.config.loader import load_config
from ecelerity.control.registry import CommandRegistry
from ecelerity.daemon.app import App
from ecelerity.daemon.service import StartupError
from ecelerity.daemon.signals import install_signal_handlers, remove_signal_handlers
from ecelerity.log.paniclog import PanicLog


class RecordingService:
    """A real service that records what the App asked of it (or refuses to start)."""

    def __init__(self, name, journal, *, fail_start=False, fail_reload=False):
        self.name, self.journal = name, journal
        self.fail_start, self.fail_reload = fail_start, fail_reload

    def start(self, app):
        if self.fail_start:
            raise StartupError(f"{self.name} cannot start")
        self.journal.append(("start", self.name))

    def stop(self, deadline):
        assert deadline > time.monotonic()
        self.journal.append(("stop", self.name))

    def reload(self, old_cfg, new_cfg):
        self.journal.append(("reload", self.name, old_cfg.get("max_outbound_connections"),
                             new_cfg.get("max_outbound_connections")))
        if self.fail_reload:
            raise RuntimeError("cannot adapt")


@pytest.fixture
def make_app(tmp_path):
    logs = []

    def make(services, text="Max_Outbound_Connections = 3\n"):
        path = tmp_path / "ecelerity.conf"
        path.write_text(text)
        log = PanicLog(str(tmp_path / "paniclog.ec"), clock=lambda: 1.0)
        logs.append(log)
        return App(load_config(str(path)), config_path=str(path), paniclog=log,
                   services=services, commands=CommandRegistry())

    yield make
    for log in logs:
        log.close()


def test_services_start_in_order_and_stop_in_reverse(make_app):
    journal = []
    app = make_app([RecordingService("a", journal), RecordingService("b", journal)])
    app.start()
    app.stop()
    assert journal == [("start", "a"), ("start", "b"), ("stop", "b"), ("stop", "a")]


def test_a_failed_start_stops_what_already_started(make_app):
    journal = []
    app = make_app([RecordingService("a", journal), RecordingService("b", journal, fail_start=True),
                    RecordingService("c", journal)])
    with pytest.raises(StartupError, match="b cannot start"):
        app.start()
    assert journal == [("start", "a"), ("stop", "a")]


def test_reload_swaps_config_and_tells_every_service(make_app, tmp_path):
    journal = []
    app = make_app([RecordingService("a", journal, fail_reload=True), RecordingService("b", journal)])
    app.start()
    before = app.config
    (tmp_path / "ecelerity.conf").write_text("Max_Outbound_Connections = 9\n")
    outcome = app.reload("test")
    assert outcome.ok and app.config is not before
    assert app.config.get("max_outbound_connections") == 9
    assert journal[2:] == [("reload", "a", 3, 9), ("reload", "b", 3, 9)]
    tail = app.paniclog.tail(50)
    assert "1:config: service a failed to reload: RuntimeError: cannot adapt" in tail
    assert tail[-1] == "1:config: reload ok (test)"


def test_a_broken_file_keeps_the_old_config_and_logs_every_error(make_app, tmp_path):
    journal = []
    app = make_app([RecordingService("a", journal)])
    app.start()
    before = app.config
    (tmp_path / "ecelerity.conf").write_text("max_outbund_connections = 9\nspoolbase = (\n")
    outcome = app.reload()
    assert not outcome.ok and app.config is before
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith(f"{tmp_path}/ecelerity.conf:3:1: ")
    assert app.paniclog.tail(1) == [f"1:config: reload failed: {outcome.errors[0]}"]
    assert ("reload", "a", 3, 9) not in journal
    (tmp_path / "ecelerity.conf").unlink()
    assert not app.reload().ok and app.config is before


def test_sighup_and_sigusr1_run_in_the_hub(make_app, tmp_path):
    app = make_app([])
    app.start()
    handles = install_signal_handlers(app)
    try:
        (tmp_path / "ecelerity.conf").write_text("Max_Outbound_Connections = 4\n")
        os.kill(os.getpid(), signal.SIGHUP)
        deadline = time.monotonic() + 5
        while app.reloads == 0 and time.monotonic() < deadline:
            gevent.sleep(0.01)
        assert app.config.get("max_outbound_connections") == 4
        app.paniclog.flush()
        os.rename(tmp_path / "paniclog.ec", tmp_path / "paniclog.ec.1")
        os.kill(os.getpid(), signal.SIGUSR1)
        while not (tmp_path / "paniclog.ec").exists() and time.monotonic() < deadline:
            gevent.sleep(0.01)
        app.paniclog.flush()
        assert (tmp_path / "paniclog.ec").read_text() == "1:ecelerity: logs reopened\n"
    finally:
        remove_signal_handlers(handles)


def test_request_shutdown_wakes_the_waiter_once(make_app):
    app = make_app([])
    waiter = gevent.spawn(app.wait_for_shutdown)
    gevent.sleep(0)
    assert not waiter.ready()
    app.request_shutdown("test")
    app.request_shutdown("again")
    assert waiter.get(timeout=2) is True
    assert [line for line in app.paniclog.tail(10) if "shutdown requested" in line] == [
        "1:ecelerity: shutdown requested: test"]
