"""A policy-chosen gateway is a queue of its own, end to end: a real daemon, dnsmasq and
sinks on 127.0.0.x.

a.test's MX is the sink on 127.0.0.2 and b.test's the one on 127.0.0.4; an each_rcpt
Sieve++ script routes every recipient of both domains to the gateway 127.0.0.3 (its
own sink). Momentum queues such mail under the gateway, so the options of
``domain "127.0.0.3"`` apply to it: its ``max_outbound_connections = 1`` holds across
both recipient domains (one connection, reused for the recipients of both, however
many clients inject at once), and the console lists one queue, named after the
gateway -- none for a.test or b.test. With the limit at 2 the same load does reach 2.
"""
from __future__ import annotations

import json
import threading

from tests.scenarios.delivery_harness import make_body, relay_world, settle, wait_until

SCRIPT = '''require "envelope";
if envelope :domain :is "to" ["a.test", "b.test"] { ec_set_routing_gateway "127.0.0.3"; }
'''
CONF = '''
idle_timeout = 10
domain "127.0.0.3" {{ max_outbound_connections = {limit} }}
sieve "policy" {{
  script each_rcpt_phase1 {{ source = "{script}" }}
}}
'''
DOMAINS = {"a.test": ["127.0.0.2"], "gw.test": ["127.0.0.3"], "b.test": ["127.0.0.4"]}


def _conf(tmp_path, limit: int) -> str:
    script = tmp_path / "rcpt.siv"
    script.write_text(SCRIPT)
    return CONF.format(script=script, limit=limit)


def _json(daemon, command: str):
    return json.loads("\n".join(daemon.command(command).body))


def _send_mixed(world, count: int, threads: int = 4) -> list[str]:
    """``count`` messages, each to one recipient of a.test and one of b.test, injected
    from ``threads`` clients at once (so deliveries would overlap if allowed)."""
    def worker(start: int) -> None:
        for index in range(start, count, threads):
            world.send("s@src.test", [f"u{index}@a.test", f"u{index}@b.test"],
                       make_body(f"m{index}"))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(30)
    return [f"u{index}@{domain}" for index in range(count) for domain in ("a.test", "b.test")]


def test_two_domains_routed_to_one_gateway_share_one_queue_and_one_connection_limit(tmp_path):
    with relay_world(tmp_path, domains=DOMAINS, dot_delay=0.05) as world:
        daemon = world.start_daemon(_conf(tmp_path, limit=1))
        gateway = world.sink("127.0.0.3")
        rcpts = _send_mixed(world, 8)
        queues = set()

        def delivered() -> bool:
            queues.update(row["domain"] for row in _json(daemon, "mailq --json")["QueueSummary"])
            return len([r for m in gateway.messages for r in m.rcpts]) == len(rcpts)
        wait_until(delivered, timeout=20, daemon=daemon, what="every recipient at the gateway")
        settle(0.2)   # a duplicate or a stray delivery to an MX would show by now
        assert sorted(r for message in gateway.messages for r in message.rcpts) == sorted(rcpts)
        assert world.sink("127.0.0.2").messages == [] and world.sink("127.0.0.4").messages == []
        assert world.meter.high_water == 1   # one limit for both recipient domains ...
        assert gateway.connections == 1      # ... and one connection, reused for both
        assert queues <= {"127.0.0.3"}       # never an a.test or b.test queue


def test_the_limit_is_the_gateways_own_not_a_serialisation(tmp_path):
    # the same load with the gateway's limit at 2: the slow gateway sees 2 at once, so
    # the test above would notice two queues (one per recipient domain) each using one
    with relay_world(tmp_path, domains=DOMAINS, dot_delay=0.1) as world:
        daemon = world.start_daemon(_conf(tmp_path, limit=2))
        gateway = world.sink("127.0.0.3")
        rcpts = _send_mixed(world, 8)
        wait_until(lambda: len([r for m in gateway.messages for r in m.rcpts]) == len(rcpts),
                   timeout=20, daemon=daemon, what="every recipient at the gateway")
        assert world.meter.high_water == 2
        assert world.sink("127.0.0.2").messages == [] and world.sink("127.0.0.4").messages == []
