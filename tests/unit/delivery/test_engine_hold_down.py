"""host_failure_retry: the engine's per-IP hold-down after a failed connection setup.
Real dnsmasq and SMTP sink on loopback; the engine's clock is a controllable function."""
from __future__ import annotations

import socket

import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery import client as stages
from ecelerity.delivery.dns import DnsResolver
from ecelerity.delivery.engine import DeliveryEngine
from tests.helpers.dns_server import start_dns
from tests.helpers.sink import SmtpSink


@pytest.fixture(scope="module")
def dns_server():
    with start_dns(mx=[("a.test", "mx1.a.test", 10), ("a.test", "mx2.a.test", 20),
                       ("dead.test", "mx.dead.test", 10)],
                   hosts={"mx1.a.test": ["127.0.0.2"], "mx2.a.test": ["127.0.0.3"],
                          "mx.dead.test": ["127.0.0.3"]}) as server:
        yield server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def engine_for(spool, dns_server, port: int, extra: str = "") -> tuple[DeliveryEngine, Clock]:
    cfg = load_config_text(f"remote_smtp_port = {port}\nconnect_timeout = 2\nehlo_timeout = 2\n"
                           "max_deliveries_per_connection = 1\n" + extra)
    clock = Clock()
    return DeliveryEngine(lambda: cfg, spool, dns=DnsResolver(nameserver=dns_server.address),
                          clock=clock), clock


def store(spool, address):
    return spool.store(Envelope("s@src.test", [Recipient(address)]), b"Subject: x\r\n\r\nx\r\n").messages


def test_a_refusing_mx_is_skipped_until_host_failure_retry_passes(spool, dns_server):
    with SmtpSink("127.0.0.3") as sink:   # nothing listens on 127.0.0.2 (the preferred MX)
        engine, clock = engine_for(spool, dns_server, sink.port, "host_failure_retry = 120\n")
        assert engine.deliver("default", "a.test", store(spool, "x@a.test"))[0].outcome == "delivered"
        assert engine.connections_opened == 2 and ("127.0.0.2", sink.port) in engine.held_down
        clock.now += 119
        assert engine.deliver("default", "a.test", store(spool, "y@a.test"))[0].outcome == "delivered"
        assert engine.connections_opened == 3          # straight to the second MX
        clock.now += 2
        assert engine.deliver("default", "a.test", store(spool, "z@a.test"))[0].outcome == "delivered"
        assert engine.connections_opened == 5          # the first MX was tried again
        assert sink.connections == 3


def test_every_target_held_down_fails_without_connecting(spool, dns_server):
    with socket.socket() as holder:   # a port nobody listens on
        holder.bind(("127.0.0.3", 0))
        port = holder.getsockname()[1]
        engine, clock = engine_for(spool, dns_server, port, "host_failure_retry = 60\n")
        first = engine.deliver("default", "dead.test", store(spool, "x@dead.test"))[0]
        second = engine.deliver("default", "dead.test", store(spool, "y@dead.test"))[0]
        assert engine.connections_opened == 1
        clock.now += 61
        engine.deliver("default", "dead.test", store(spool, "z@dead.test"))
        assert engine.connections_opened == 2
    assert first.outcome == "transient" and first.code == 421
    assert (second.outcome, second.code, second.enhanced, second.stage) == (
        "transient", 451, "4.4.1", stages.NOT_CONNECTED)
    assert "host_failure_retry" in second.text


def test_zero_disables_the_hold_down(spool, dns_server):
    with socket.socket() as holder:
        holder.bind(("127.0.0.3", 0))
        engine, _ = engine_for(spool, dns_server, holder.getsockname()[1], "host_failure_retry = 0\n")
        for address in ("x@dead.test", "y@dead.test"):
            engine.deliver("default", "dead.test", store(spool, address))
    assert engine.connections_opened == 2 and engine.held_down == {}
