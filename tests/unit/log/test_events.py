"""ecelerity/log/events.py: each event reaches the App's LogHub; no hub is no work; a
hub that fails never raises into the SMTP session or the console (one paniclog line)."""
from __future__ import annotations

from types import SimpleNamespace

from ecelerity.log import events, service


class Hub:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.calls, self.said = fail, [], []

    def _record(self, *args):
        if self.fail:
            raise RuntimeError("disk on fire")
        self.calls.append(args)

    def reception(self, batch, conn_id):
        self._record("reception", batch, conn_id)

    def refusal(self, session, reply):
        self._record("refusal", reply)

    def account(self, *args):
        self._record("account", *args)

    def _say(self, text):
        self.said.append(text)


def session_with(hub):
    app = SimpleNamespace(loggers=hub)
    return SimpleNamespace(service=SimpleNamespace(app=app), conn_id="C1", peer_ip="192.0.2.7",
                           peer_port=4000, local_addr="127.0.0.1:25")


def test_events_reach_the_hub_with_what_the_acctlog_needs():
    hub = Hub()
    session = session_with(hub)
    events.log_reception(session, "batch")
    events.log_refusal(session, "550 no")
    events.log_smtp_auth(session, "alice", True)
    events.log_smtp_auth(session, "bob", True, timeout=True)
    events.log_console_authz(session.service.app, "/tmp/2025", "", "admin", -1, "shutdown", "ro")
    assert hub.calls == [("reception", "batch", "C1"), ("refusal", "550 no"),
                         ("account", "N", "127.0.0.1:25", "192.0.2.7:4000", "alice", 1),
                         ("account", "T", "127.0.0.1:25", "192.0.2.7:4000", "bob", 0),
                         ("account", "Z", "/tmp/2025", "", "admin", -1, "shutdown", "ro")]


def test_no_hub_is_no_work_and_a_failing_hub_never_raises():
    events.log_reception(SimpleNamespace(), "batch")          # no service, no app: nothing
    events.log_console_auth(SimpleNamespace(), "/tmp/2025", "", "u", False)
    hub = Hub(fail=True)
    session = session_with(hub)
    events.log_reception(session, "batch")
    events.log_refusal(session, "451 later")
    events.log_smtp_auth(session, "alice", False)
    assert [text.split(":")[0] for text in hub.said] == [
        "reception not logged", "rejection not logged", "acctlog record not written"]
    assert all("RuntimeError: disk on fire" in text for text in hub.said)


def test_log_service_keeps_the_old_import_path():
    assert service.log_reception is events.log_reception
    assert service.log_console_auth is events.log_console_auth
