"""worker_processes = 2 without delivery: pidfile, signals, control channel, start-up errors."""
from __future__ import annotations

import json
import os
import signal
import socket
import smtplib
import time

from tests.helpers.daemon import free_port, run_ecelerity
from tests.scenarios.delivery_harness import make_body, wait_until


def _config(port: int, extra: str = "") -> str:
    return (f"worker_processes = 2\n{extra}\n"
            f'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')


def _workers(daemon) -> list[dict]:
    reply = daemon.command("workers --json")
    assert reply.ok, reply
    return json.loads(reply.body_text)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_pidfile_names_the_supervisor_and_sigterm_stops_every_process(daemon_factory):
    daemon = daemon_factory(_config(free_port()))
    assert daemon.pidfile.read_text().strip() == str(daemon.pid)
    assert daemon.command("pid").body == [str(daemon.pid)]
    pids = [w["pid"] for w in _workers(daemon)]
    assert len(set(pids)) == 2 and daemon.pid not in pids
    assert [daemon.command(f"worker {i} pid").body for i in (0, 1)] == [[str(p)] for p in pids]
    assert daemon.stop() == 0
    assert not daemon.pidfile.exists()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


def test_sighup_reloads_the_supervisor_and_every_worker(daemon_factory):
    port = free_port()
    daemon = daemon_factory(_config(port, "max_recipients_per_batch = 10"))
    text = daemon.config_path.read_text().replace("max_recipients_per_batch = 10",
                                                  "max_recipients_per_batch = 7")
    daemon.write_config(text)
    daemon.signal(signal.SIGHUP)

    def everyone_reloaded() -> bool:
        return all(daemon.command(f"worker {i} config eval max_recipients_per_batch").body
                   == ["max_recipients_per_batch = 7"] for i in (0, 1))

    wait_until(everyone_reloaded, timeout=10, daemon=daemon, what="both workers reloaded")
    daemon.wait_for_paniclog("supervisor reload ok (SIGHUP)")
    reply = daemon.command("config reload")
    assert reply.ok and reply.body == ["reload ok"], reply


def test_console_merges_workers_and_shutdown_stops_all(daemon_factory):
    port = free_port()
    daemon = daemon_factory(_config(port, 'suspend_delivery = true\nrelay_domains = ( "x.test" )'))
    for i in range(12):  # one connection each: the kernel spreads them over the workers
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("s@b.test", [f"r{i}@x.test"], make_body(f"m{i}"))
    per_worker = [json.loads(daemon.command(f"worker {i} summary --json").body_text) for i in (0, 1)]
    summary = json.loads(daemon.command("summary --json").body_text)
    assert [w["total_queue_size"] for w in per_worker] == [w["received"] for w in per_worker]
    assert summary["received"] == summary["total_queue_size"] == 12
    assert summary["uptime"] <= max(w["uptime"] for w in per_worker)
    text = daemon.command("summary")
    assert text.ok and "\tReceived Messages:      12" in text.body
    mailq = json.loads(daemon.command("mailq --json").body_text)["QueueSummary"]
    assert [(r["domain"], r["aq"] + r["dq"]) for r in mailq] == [("x.test", 12)]
    shown = json.loads(daemon.command("showqueue x.test --json").body_text)
    assert sorted(r["to"] for r in shown) == sorted(f"r{i}@x.test" for i in range(12))
    one = shown[0]["id"]
    assert daemon.command(f"message details {one}").ok
    assert daemon.command("flush domain x.test --json").ok
    assert daemon.command("fail domain nowhere.test").body == ["0 message(s) failed for nowhere.test"]
    assert daemon.command("worker 7 pid").status == 404
    assert daemon.command("version").ok
    reply = daemon.command("shutdown")
    assert reply.ok
    assert daemon.wait(15) == 0
    assert not daemon.pidfile.exists()


def test_a_worker_that_cannot_listen_fails_start_up(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)  # a socket without SO_REUSEPORT: the workers cannot share the port
        port = busy.getsockname()[1]
        (tmp_path / "ecelerity.conf").write_text(
            'Spoolbase = "var/spool"\nPidfile = "var/run/ecelerity.pid"\n' + _config(port)
            + f'Control_Listener {{ Listen "{tmp_path}/c.sock" {{ }} }}\n')
        result = run_ecelerity(["-c", "ecelerity.conf", "--foreground"], tmp_path, timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "var/run/ecelerity.pid").exists()
