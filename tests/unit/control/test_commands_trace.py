"""ecelerity/control/commands_trace.py against a real in-process App: ``trace smtp`` starts
a trace in smtp/trace.py's registry (file mode from trace_smtp_mode, default file next
to the paniclog), lists the traces, and ``trace smtp off`` ends one or all of them."""
from __future__ import annotations

import json
import os
import stat

import pytest

from ecelerity.smtp import trace
from tests.unit.control._console_app import run, running_app, stop


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(trace, "REGISTRY", trace.TraceRegistry())
    app = running_app(tmp_path, "trace_smtp_mode = 0600\n")
    yield app
    trace.REGISTRY.stop()
    stop(app)


def ok(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def test_start_list_and_stop(app, tmp_path):
    assert ok(run(app, "trace smtp")) == ["no SMTP traces active"]
    target = tmp_path / "t.log"
    assert ok(run(app, f"trace smtp 192.0.2.5 {target}")) == [
        f"tracing SMTP sessions from 192.0.2.5 to {target}"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert trace.REGISTRY.for_peer("192.0.2.5").path == str(target)
    assert ok(run(app, "trace smtp 10.0.0.0/8")) == [
        f"tracing SMTP sessions from 10.0.0.0/8 to {tmp_path}/trace_smtp.10.0.0.0_8.log"]
    rows = json.loads("\n".join(ok(run(app, "trace smtp --json"))))
    assert [(r["target"], r["active"], r["sessions"]) for r in rows] == [
        ("192.0.2.5", True, 0), ("10.0.0.0/8", True, 0)]
    assert ok(run(app, "trace smtp off 10.0.0.0/8"))[0] == "1 trace(s) stopped"
    assert trace.REGISTRY.for_peer("10.1.1.1") is None
    assert run(app, "trace smtp off 10.0.0.0/8").status == 404
    assert ok(run(app, "trace smtp off"))[0] == "1 trace(s) stopped"
    assert trace.REGISTRY.traces() == []


def test_refusals(app, tmp_path):
    assert run(app, "trace smtp not-an-ip").text == "trace smtp: 'not-an-ip' is not an IP address or network"
    assert run(app, "trace smtp 1.2.3.4 a b").status == 400
    assert run(app, "trace smtp off 1.2.3.4 extra").status == 400
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert "cannot open trace file" in run(app, f"trace smtp 1.2.3.4 {blocked}/x.log").text
