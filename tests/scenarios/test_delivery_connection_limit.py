"""Open connections to a domain (counted at the sinks, idle ones included) never exceed
``max_outbound_connections``, even when the domain's MX has several addresses and the
receivers are slow enough that deliveries overlap."""
from __future__ import annotations

import threading

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until


def _inject_in_parallel(world, count: int, threads: int, domain: str) -> None:
    def worker(start: int) -> None:
        for i in range(start, count, threads):
            world.send("s@b.test", [f"r{i}@{domain}"], make_body(f"limit-{i}"))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(30)


def test_concurrent_connections_stay_within_max_outbound_connections(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2", "127.0.0.3"]},
                     dot_delay=0.1) as world:
        daemon = world.start_daemon("max_outbound_connections = 2\nidle_timeout = 10\n")
        _inject_in_parallel(world, 20, 5, "a.test")
        wait_until(lambda: len(world.all_messages()) == 20, timeout=20, daemon=daemon,
                   what="20 messages at the sinks")
        assert world.meter.high_water == 2      # the limit was reached ...
        assert all(s.max_concurrent <= 2 for s in world.sinks)
        assert sorted(r for m in world.all_messages() for r in m.rcpts) == \
            sorted(f"r{i}@a.test" for i in range(20))


def test_one_connection_limit_serialises_delivery(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2", "127.0.0.3"]},
                     dot_delay=0.05) as world:
        daemon = world.start_daemon("max_outbound_connections = 1\nidle_timeout = 10\n")
        _inject_in_parallel(world, 12, 4, "a.test")
        wait_until(lambda: len(world.all_messages()) == 12, timeout=20, daemon=daemon,
                   what="12 messages at the sinks")
        assert world.meter.high_water == 1
        assert sum(s.connections for s in world.sinks) == 1  # reused, never reopened
