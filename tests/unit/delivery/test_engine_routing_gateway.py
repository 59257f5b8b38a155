"""delivery/engine.py + routes.py: a gateway chosen by policy (message context
``routing_gateway``, per recipient ``routing_gateway:<address>``) on loopback, with
real dnsmasq, real sinks and a real spool.

a.test's MX is 127.0.0.2; 127.0.0.3 and 127.0.0.4 are gateways (by IP literal, by a
name with only an A record, by a domain with an MX). Messages of one hand-off with
different gateways are delivered in separate connections, each to its own gateway;
the domain's connection is kept for the domain's messages; a gateway that does not
resolve fails only its own messages, transiently.
"""
from __future__ import annotations

import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery.dns import DnsResolver
from ecelerity.delivery.engine import DeliveryEngine
from ecelerity.delivery.routes import message_gateway
from tests.helpers.dns_server import start_dns
from tests.helpers.sink import start_sinks

BODY = b"Subject: hi\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def dns_server():
    with start_dns(mx=[("a.test", "mx.a.test", 10), ("gw.test", "mx.gw.test", 10)],
                   hosts={"mx.a.test": ["127.0.0.2"], "relay.gw.test": ["127.0.0.3"],
                          "mx.gw.test": ["127.0.0.4"]}) as server:
        yield server


@pytest.fixture
def sinks():
    started = start_sinks(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    yield started
    for sink in started:
        sink.stop()


def engine_for(spool, dns_server, port: int, extra: str = "") -> DeliveryEngine:
    cfg = load_config_text(f"remote_smtp_port = {port}\nconnect_timeout = 2\n"
                           f'ehlo_hostname = "out.example"\nidle_timeout = 30\n{extra}')
    return DeliveryEngine(lambda: cfg, spool, dns=DnsResolver(nameserver=dns_server.address))


def store(spool, addresses, **context):
    envelope = Envelope("s@src.test", [Recipient(a) for a in addresses], mess_context=context)
    return spool.store(envelope, BODY).messages


def test_message_gateway_prefers_the_recipients_own_key(spool):
    one, two = store(spool, ["One@a.test", "two@a.test"],
                     **{"routing_gateway": "10.0.0.9", "routing_gateway:one@a.test": " 10.0.0.1 "})
    plain, = store(spool, ["three@a.test"])
    assert (message_gateway(one), message_gateway(two), message_gateway(plain)) == (
        "10.0.0.1", "10.0.0.9", None)


def test_each_gateway_gets_its_own_connection_and_the_domain_keeps_its_route(spool, dns_server, sinks):
    mx, relay, gw = sinks
    engine = engine_for(spool, dns_server, mx.port)
    # one batch: first recipient to the IP-literal gateway (explicit port), second plain
    first = store(spool, ["r1@a.test", "r2@a.test"],
                  **{"routing_gateway:r1@a.test": f"127.0.0.3:{mx.port}"})
    by_name = store(spool, ["r3@a.test"], routing_gateway="relay.gw.test")   # A record only
    by_mx = store(spool, ["r4@a.test"], routing_gateway="gw.test")           # the MX set
    plain = store(spool, ["r5@a.test"])
    messages = first + by_name + by_mx + plain
    results = engine.deliver("default", "a.test", messages)
    assert [(r.outcome, r.remote_ip) for r in results] == [
        ("delivered", "127.0.0.3"), ("delivered", "127.0.0.2"), ("delivered", "127.0.0.3"),
        ("delivered", "127.0.0.4"), ("delivered", "127.0.0.2")]
    assert sorted(r for m in mx.messages for r in m.rcpts) == ["r2@a.test", "r5@a.test"]
    assert sorted(r for m in relay.messages for r in m.rcpts) == ["r1@a.test", "r3@a.test"]
    assert [m.rcpts for m in gw.messages] == [["r4@a.test"]]
    # the IP literal and the name are two gateways: two connections to 127.0.0.3, never
    # one shared with each other or with the domain's own MX
    assert (mx.connections, relay.connections, gw.connections) == (1, 2, 1)
    assert len({r.conn_id for r in results}) == 4
    # the domain's idle connection survived the gateway hand-offs and is reused
    again = engine.deliver("default", "a.test", store(spool, ["r6@a.test"]))
    assert again[0].outcome == "delivered" and again[0].conn_id == results[1].conn_id
    assert mx.connections == 1
    engine.close()


def test_an_unresolvable_gateway_fails_only_its_messages_transiently(spool, dns_server, sinks):
    mx = sinks[0]
    engine = engine_for(spool, dns_server, mx.port)
    lost = store(spool, ["x@a.test"], routing_gateway="nowhere.test")
    plain = store(spool, ["y@a.test"])
    results = engine.deliver("default", "a.test", lost + plain)
    assert (results[0].outcome, results[0].code, results[0].enhanced) == ("transient", 451, "4.4.1")
    assert "routing gateway nowhere.test" in results[0].text
    assert results[1].outcome == "delivered" and results[1].remote_ip == "127.0.0.2"
    assert [m.rcpts for m in mx.messages] == [["y@a.test"]]
    engine.close()


def test_prohibited_hosts_still_apply_to_a_policy_gateway(spool, dns_server, sinks):
    engine = engine_for(spool, dns_server, sinks[0].port, "prohibited_hosts = ( 127.0.0.3/32 )")
    results = engine.deliver("default", "a.test",
                             store(spool, ["z@a.test"], routing_gateway="127.0.0.3"))
    assert (results[0].outcome, results[0].enhanced, results[0].text) == (
        "transient", "4.4.1", "[internal] No valid hosts")
    assert sinks[1].connections == 0
    engine.close()
