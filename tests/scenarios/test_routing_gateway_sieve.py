"""Sieve++ ``ec_set_routing_gateway`` end to end: a real daemon, dnsmasq and sinks.

a.test's MX is the sink on 127.0.0.2. An each_rcpt script sends some recipients to
other gateways: by IP literal (127.0.0.3) and by a domain name whose MX is 127.0.0.3;
the others of the same message stay on a.test's route. Then, with the gateway down,
a routed message waits in the gateway's queue (named after the gateway, as Momentum
queues it; its Message Context shows the gateway in ``message details full``), the
daemon is killed with SIGKILL and restarted (the message is back in the gateway's
queue), the gateway comes up, and the message arrives there -- never at a.test's MX.
"""
from __future__ import annotations

import json

from tests.helpers.daemon import free_port
from tests.helpers.sink import SmtpSink
from tests.scenarios.delivery_harness import make_body, relay_world, settle, wait_until

SCRIPT = '''require "envelope";
if envelope :is "to" "routed@a.test" { ec_set_routing_gateway "127.0.0.3"; }
if envelope :is "to" "named@a.test" { ec_set_routing_gateway "gw.test"; }
if envelope :is "to" "later@a.test" { ec_set_routing_gateway "127.0.0.4:{port}"; }
'''
CONF = '''
host_failure_retry = 0
sieve "policy" {{
  script each_rcpt_phase1 {{ source = "{script}" }}
}}
'''


def _rcpts(sink) -> list[list[str]]:
    return sorted(message.rcpts for message in sink.messages)


def _json(daemon, command: str):
    return json.loads("\n".join(daemon.command(command).body))


def _world_conf(tmp_path, gateway_port: int) -> str:
    script = tmp_path / "rcpt.siv"
    script.write_text(SCRIPT.replace("{port}", str(gateway_port)))
    return CONF.format(script=script)


def test_each_recipient_goes_to_the_gateway_its_script_chose(tmp_path):
    domains = {"a.test": ["127.0.0.2"], "gw.test": ["127.0.0.3"]}
    with relay_world(tmp_path, domains=domains) as world:
        daemon = world.start_daemon(_world_conf(tmp_path, free_port()))
        world.send("s@b.test", ["plain@a.test", "routed@a.test"], make_body("mixed"))
        world.send("s@b.test", ["named@a.test"], make_body("named"))
        domain_mx, gateway = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        wait_until(lambda: len(domain_mx.messages) + len(gateway.messages) >= 3, daemon=daemon,
                   what="three deliveries")
        settle(0.3)   # a wrongly batched or duplicated copy would have arrived by now
        assert _rcpts(domain_mx) == [["plain@a.test"]]
        assert _rcpts(gateway) == [["named@a.test"], ["routed@a.test"]]
        # same domain, same batch, different gateways: never one connection
        assert domain_mx.connections == 1 and gateway.connections == 2


def test_the_gateway_survives_a_kill_9_before_delivery(tmp_path):
    gateway_port = free_port("127.0.0.4")
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        conf = _world_conf(tmp_path, gateway_port)
        daemon = world.start_daemon(conf)
        world.send("s@b.test", ["later@a.test"], make_body("later"))
        # the gateway is down: the message waits (delayed) in the gateway's queue (Momentum
        # queues it under the gateway, not a.test), its gateway in its context
        gateway_queue = f"127.0.0.4:{gateway_port}"
        rows = []

        def queued() -> bool:
            rows[:] = _json(daemon, f"showqueue {gateway_queue} --json")
            return bool(rows) and rows[0]["state"] == "delayed"
        wait_until(queued, daemon=daemon, what="the message delayed behind the dead gateway")
        assert _json(daemon, "showqueue a.test --json") == []
        details = _json(daemon, f"message details full {rows[0]['id']} --json")
        assert details["message_context"]["routing_gateway:later@a.test"] == gateway_queue
        assert details["domain"] == gateway_queue and details["recipient"] == "later@a.test"
        daemon.kill()   # SIGKILL: nothing flushed, nothing said goodbye

        # restarted with the gateway still down: spooled back into the gateway's queue
        daemon = world.start_daemon(conf)
        wait_until(queued, daemon=daemon, what="the message back in the gateway's queue")
        assert [row["domain"] for row in _json(daemon, "mailq --json")["QueueSummary"]] == [
            gateway_queue]
        sink = SmtpSink("127.0.0.4", port=gateway_port).start()
        try:
            wait_until(lambda: len(sink.messages) == 1, timeout=15, daemon=daemon,
                       what="delivery to the gateway after the restart")
            settle(1.2)   # > retry_interval: a second copy would show by now
            assert _rcpts(sink) == [["later@a.test"]]
            assert b"Subject: later" in sink.messages[0].body
            assert world.sink("127.0.0.2").messages == []
        finally:
            sink.stop()
