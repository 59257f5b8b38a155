"""worker_processes = 2: a real supervisor with two workers relaying to real sinks.

Both workers take connections (SO_REUSEPORT; counted per worker through the console's
``worker I summary``), every message reaches the sink, and max_outbound_connections
holds across the two processes (the sinks' high-water mark); a worker killed with
SIGKILL is started again and delivers what its spool partition holds.
"""
from __future__ import annotations

import json
import os
import signal
import threading

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until


def _json(daemon, line: str):
    reply = daemon.command(line + " --json")
    assert reply.ok, (line, reply.status, reply.text, reply.body)
    return json.loads(reply.body_text)


def _inject(world, count: int, threads: int, domain: str) -> None:
    failures: list[BaseException] = []

    def worker(start: int) -> None:
        try:
            for i in range(start, count, threads):
                world.send("s@b.test", [f"r{i}@{domain}"], make_body(f"w-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failures.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(60)
    assert not failures, failures


def test_two_workers_share_inbound_and_hold_the_connection_limit(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2", "127.0.0.3"]},
                     dot_delay=0.05) as world:
        daemon = world.start_daemon("worker_processes = 2\nmax_outbound_connections = 3\n"
                                    "idle_timeout = 5\n")
        workers = _json(daemon, "workers")
        assert [w["worker"] for w in workers] == [0, 1]
        assert len({w["pid"] for w in workers} | {daemon.pid}) == 3
        _inject(world, 60, 6, "a.test")
        wait_until(lambda: len(world.all_messages()) == 60, timeout=40, daemon=daemon,
                   what="60 messages at the sinks")
        received = [_json(daemon, f"worker {i} summary")["received"] for i in (0, 1)]
        assert all(n > 0 for n in received), received          # the kernel used both workers
        assert sum(received) == 60
        total = _json(daemon, "summary")
        assert total["received"] == 60 and total["delivered"] == 60
        assert 2 <= world.meter.high_water <= 3, world.meter.high_water
        assert sorted(r for m in world.all_messages() for r in m.rcpts) == \
            sorted(f"r{i}@a.test" for i in range(60))


def test_limit_of_one_holds_across_workers_and_everything_is_delivered(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}, dot_delay=0.02) as world:
        daemon = world.start_daemon("worker_processes = 2\nmax_outbound_connections = 1\n"
                                    "idle_timeout = 1\n")
        _inject(world, 30, 6, "a.test")
        wait_until(lambda: len(world.all_messages()) == 30, timeout=40, daemon=daemon,
                   what="30 messages at the sink")
        received = [_json(daemon, f"worker {i} summary")["received"] for i in (0, 1)]
        assert all(n > 0 for n in received), received
        assert world.meter.high_water == 1


def test_killed_worker_is_restarted_and_delivers_its_partition(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]},
                     rcpt_default="451 4.3.0 not now") as world:
        daemon = world.start_daemon("worker_processes = 2\n")
        _inject(world, 30, 6, "a.test")
        queued = [_json(daemon, f"worker {i} summary")["total_queue_size"] for i in (0, 1)]
        assert queued[0] > 0 and queued[1] > 0 and sum(queued) == 30, queued
        victim = _json(daemon, "workers")[1]["pid"]
        os.kill(victim, signal.SIGKILL)

        def restarted() -> bool:
            row = _json(daemon, "workers")[1]
            return row["pid"] != victim and row["state"] == "running"

        wait_until(restarted, timeout=20, daemon=daemon, what="worker 1 restarted")
        assert _json(daemon, "worker 1 summary")["total_queue_size"] == queued[1]
        world.sink("127.0.0.2").rcpt_default = "250 2.1.5 recipient ok"
        wait_until(lambda: len(world.all_messages()) == 30, timeout=30, daemon=daemon,
                   what="30 messages at the sink after the restart")
        assert "worker 1 restarted" in daemon.paniclog_text()
        assert _json(daemon, "summary")["total_queue_size"] == 0
