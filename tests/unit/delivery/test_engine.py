"""ecelerity/delivery/engine.py end to end on loopback: real dnsmasq, real SMTP sinks, real spool.

Sinks listen on 127.0.0.2 / 127.0.0.3 on one shared free port; the config's
``remote_smtp_port`` points there, and dnsmasq's MX records name hosts on those IPs.
"""
from __future__ import annotations

import socket

import gevent
import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery import client as stages
from ecelerity.delivery.dns import DnsResolver
from ecelerity.delivery.engine import DeliveryEngine
from tests.helpers.dns_server import start_dns
from tests.helpers.sink import SmtpSink, start_sinks

BODY = b"Subject: hi\r\n\r\nline one\r\n.leading dot\r\n"


@pytest.fixture(scope="module")
def dns_server():
    with start_dns(
        mx=[("a.test", "mx1.a.test", 10), ("a.test", "mx2.a.test", 20),
            ("dead.test", "mx.dead.test", 10)],
        hosts={"mx1.a.test": ["127.0.0.2"], "mx2.a.test": ["127.0.0.3"],
               "aonly.test": ["127.0.0.2"], "mx.dead.test": ["127.0.0.3"]},
        raw=[("nullmx.test", 15, "000000")],
    ) as server:
        yield server


def make_engine(spool, dns_server, config: str) -> DeliveryEngine:
    cfg = load_config_text(config)
    return DeliveryEngine(lambda: cfg, spool, dns=DnsResolver(nameserver=dns_server.address))


def base_config(port: int, extra: str = "") -> str:
    return (f"remote_smtp_port = {port}\nconnect_timeout = 2\nehlo_timeout = 2\n"
            f"mailfrom_timeout = 2\nrcptto_timeout = 2\nbody_timeout = 2\nrset_timeout = 2\n"
            f'ehlo_hostname = "out.example"\n{extra}')


def store(spool, *addresses, sender="sender@src.test", body=BODY, **extra):
    envelope = Envelope(sender, [Recipient(a) for a in addresses], **extra)
    return spool.store(envelope, body).messages


def test_mixed_per_recipient_replies_in_one_pipelined_transaction(spool, dns_server):
    sinks = start_sinks(["127.0.0.2", "127.0.0.3"], rcpt_replies={
        "full@a.test": "452 4.2.2 mailbox full", "gone@a.test": "550 5.1.1 no such user"})
    try:
        engine = make_engine(spool, dns_server, base_config(sinks[0].port))
        messages = store(spool, "ok@a.test", "full@a.test", "gone@a.test", "ok2@a.test")
        results = engine.deliver("default", "a.test", messages)
    finally:
        for sink in sinks:
            sink.stop()
    assert [(r.outcome, r.code, r.enhanced, r.stage) for r in results] == [
        ("delivered", 250, "2.0.0", stages.CONFIRMATION),
        ("transient", 452, "4.2.2", stages.RCPT),
        ("permanent", 550, "5.1.1", stages.RCPT),
        ("delivered", 250, "2.0.0", stages.CONFIRMATION)]
    assert results[2].text == "no such user" and results[0].remote_ip == "127.0.0.2"
    assert sinks[1].connections == 0  # the preferred MX answered
    [received] = sinks[0].messages
    assert received.rcpts == ["ok@a.test", "ok2@a.test"] and received.mail_from == "sender@src.test"
    assert received.body == BODY and received.helo == "out.example"
    assert f"SIZE={len(BODY)}" in received.mail_params
    assert results[0].bytes_sent > len(BODY) and results[1].bytes_sent == 0
    assert results[0].conn_id == results[3].conn_id != ""


def test_batches_are_cut_at_max_recipients_per_batch_and_reuse_the_connection(spool, dns_server):
    with SmtpSink("127.0.0.2") as sink:
        engine = make_engine(spool, dns_server, base_config(sink.port, "max_recipients_per_batch = 2\n"))
        messages = store(spool, *(f"u{i}@aonly.test" for i in range(5)))
        results = engine.deliver("default", "aonly.test", messages)
        assert [r.outcome for r in results] == ["delivered"] * 5
        assert [len(m.rcpts) for m in sink.messages] == [2, 2, 1]
        assert sink.connections == 1 and engine.pool.idle_count() == 1
        second = engine.deliver("default", "aonly.test", store(spool, "again@aonly.test"))
        assert second[0].outcome == "delivered" and sink.connections == 1
        assert "RSET" in sink.commands
        engine.close()


def test_max_deliveries_per_connection_closes_and_reopens(spool, dns_server):
    with SmtpSink("127.0.0.2") as sink:
        engine = make_engine(spool, dns_server, base_config(
            sink.port, "max_recipients_per_batch = 1\nmax_deliveries_per_connection = 2\n"))
        results = engine.deliver("default", "aonly.test", store(spool, *(f"u{i}@aonly.test" for i in range(5))))
        assert [r.outcome for r in results] == ["delivered"] * 5
        assert sink.connections == 3
        engine.close()


def test_idle_connection_is_closed_after_idle_timeout(spool, dns_server):
    with SmtpSink("127.0.0.2") as sink:
        engine = make_engine(spool, dns_server, base_config(sink.port, "idle_timeout = 1\n"))
        engine.deliver("default", "aonly.test", store(spool, "x@aonly.test"))
        assert engine.pool.idle_count() == 1
        gevent.sleep(1.3)
        assert engine.pool.idle_count() == 0 and sink.commands[-1] == "QUIT"


def test_unreachable_preferred_mx_falls_over_to_the_next(spool, dns_server):
    with SmtpSink("127.0.0.3") as sink:  # nothing on 127.0.0.2:<port>
        engine = make_engine(spool, dns_server, base_config(sink.port))
        [result] = engine.deliver("default", "a.test", store(spool, "x@a.test"))
        assert result.outcome == "delivered" and result.remote_ip == "127.0.0.3"


def test_connection_refused_everywhere_is_transient_at_stage_0(spool, dns_server):
    with socket.socket() as holder:  # a port nobody listens on
        holder.bind(("127.0.0.3", 0))
        port = holder.getsockname()[1]
        engine = make_engine(spool, dns_server, base_config(port))
        [result] = engine.deliver("default", "dead.test", store(spool, "x@dead.test"))
    assert (result.outcome, result.code, result.enhanced, result.stage) == ("transient", 421, "4.4.0", 0)
    assert result.remote_ip == "127.0.0.3"


@pytest.mark.parametrize("script, code, enhanced, text, stage", [
    ({"hang_at": "banner"}, 451, "4.4.2", "[internal] no banner", stages.BANNER),
    ({"close_at": "banner"}, 451, "4.4.2", "[internal] no banner", stages.BANNER),
    ({"hang_at": "ehlo"}, 450, "4.4.1", "[internal] Connection Timed Out", stages.EHLO),
    ({"mail_reply": "421 4.3.2 shutting down"}, 421, "4.3.2", "shutting down", stages.MAIL),
    ({"mail_reply": "553 5.7.1 sender refused"}, 553, "5.7.1", "sender refused", stages.MAIL),
    ({"hang_at": "rcpt"}, 450, "4.4.1", "[internal] Connection Timed Out", stages.RCPT),
    ({"data_reply": "451 4.3.0 try later"}, 451, "4.3.0", "try later", stages.DATA),
    ({"close_at": "body"}, 451, "4.4.2", "[internal] connection closed by remote host",
     stages.CONFIRMATION),
    ({"hang_at": "dot"}, 450, "4.4.1", "[internal] Connection Timed Out", stages.CONFIRMATION),
    ({"dot_default": "554 5.7.1 spam detected"}, 554, "5.7.1", "spam detected", stages.CONFIRMATION),
])
def test_failures_carry_the_reply_and_the_connection_stage(spool, dns_server, script, code,
                                                           enhanced, text, stage):
    with SmtpSink("127.0.0.2", **script) as sink:
        engine = make_engine(spool, dns_server, base_config(sink.port).replace("= 2\n", "= 1\n"))
        [result] = engine.deliver("default", "aonly.test", store(spool, "x@aonly.test"))
        engine.close()
    expected_outcome = "permanent" if code >= 500 else "transient"
    assert (result.outcome, result.code, result.enhanced, result.text, result.stage) == (
        expected_outcome, code, enhanced, text, stage)


def test_helo_fallback_when_ehlo_is_refused(spool, dns_server):
    with SmtpSink("127.0.0.2", ehlo_reply="502 5.5.2 no EHLO here") as sink:
        engine = make_engine(spool, dns_server, base_config(sink.port))
        [result] = engine.deliver("default", "aonly.test", store(spool, "x@aonly.test"))
        assert result.outcome == "delivered"
        assert any(c.startswith("HELO out.example") for c in sink.commands)
        assert sink.messages[0].mail_params == []  # no extensions known after HELO


def test_source_address_comes_from_the_binding(spool, dns_server):
    with SmtpSink("127.0.0.2") as sink:
        engine = make_engine(spool, dns_server, base_config(
            sink.port, 'Binding "b10" { bind_address = "127.0.0.10" }\n'
                       'Binding "b11" { bind_address = "127.0.0.11" }\n'))
        engine.deliver("b10", "aonly.test", store(spool, "x@aonly.test"))
        engine.deliver("b11", "aonly.test", store(spool, "y@aonly.test"))
        assert [m.peer[0] for m in sink.messages] == ["127.0.0.10", "127.0.0.11"]
        engine.close()


def test_null_mx_nxdomain_and_no_valid_hosts(spool, dns_server):
    engine = make_engine(spool, dns_server, base_config(2525, 'prohibited_hosts = ( "127.0.0.0/24" )\n'))
    [null] = engine.deliver("default", "nullmx.test", store(spool, "x@nullmx.test"))
    [missing] = engine.deliver("default", "nope.test", store(spool, "x@nope.test"))
    [prohibited] = engine.deliver("default", "a.test", store(spool, "x@a.test"))
    assert (null.outcome, null.code, null.enhanced) == ("permanent", 556, "5.1.10")
    assert (missing.outcome, missing.response) == ("permanent", "554 5.4.4 [internal] Domain Lookup Failed")
    assert (prohibited.outcome, prohibited.response) == ("transient", "451 4.4.1 [internal] No valid hosts")
    assert null.stage == missing.stage == prohibited.stage == 0


def test_skip_hosts_and_gateway_and_routes(spool, dns_server):
    sinks = start_sinks(["127.0.0.2", "127.0.0.3"])
    try:
        port = sinks[0].port
        skip = make_engine(spool, dns_server, base_config(port, 'skip_hosts = ( "mx1.a.test" )\n'))
        assert skip.deliver("default", "a.test", store(spool, "s@a.test"))[0].remote_ip == "127.0.0.3"
        gateway = make_engine(spool, dns_server, base_config(port, f'gateway = "127.0.0.3:{port}"\n'))
        assert gateway.deliver("default", "nope.test", store(spool, "g@nope.test"))[0].remote_ip == "127.0.0.3"
        routes = make_engine(spool, dns_server, base_config(
            port, f'Domain "nope.test" {{ routes = ( "smtp://mx2.a.test?port={port}" "__mx__" ) }}\n'))
        [routed] = routes.deliver("default", "nope.test", store(spool, "r@nope.test"))
        assert routed.outcome == "delivered" and routed.remote_ip == "127.0.0.3"
        for engine in (skip, gateway, routes):
            engine.close()
    finally:
        for sink in sinks:
            sink.stop()


def test_an_idle_connection_to_any_target_is_used_before_opening_another(spool, dns_server):
    """Regression: the engine opened a new connection to the first target even when an
    idle one to another MX of the domain was parked, so more connections were open to
    the domain than max_outbound_connections allowed (seen at the sinks)."""
    sinks = start_sinks(["127.0.0.2", "127.0.0.3"])
    try:
        current = {}

        def use(routes: str) -> None:
            current["cfg"] = load_config_text(base_config(sinks[0].port, f"routes = ( {routes} )\n"
                                                                         "idle_timeout = 30\n"))

        engine = DeliveryEngine(lambda: current["cfg"], spool,
                                dns=DnsResolver(nameserver=dns_server.address))
        use('"127.0.0.3" "127.0.0.2"')
        assert engine.deliver("default", "a.test", store(spool, "one@a.test"))[0].outcome == "delivered"
        use('"127.0.0.2" "127.0.0.3"')   # same hosts, other order: reuse the idle .3
        assert engine.deliver("default", "a.test", store(spool, "two@a.test"))[0].remote_ip == "127.0.0.3"
        assert (sinks[0].connections, sinks[1].connections) == (0, 1)
        use('"127.0.0.2"')               # .3 is no longer a target: its idle connection goes
        assert engine.deliver("default", "a.test", store(spool, "three@a.test"))[0].remote_ip == "127.0.0.2"
        assert engine.pool.idle_count() == 1
        assert "QUIT" in sinks[1].commands
        engine.close()
    finally:
        for sink in sinks:
            sink.stop()
