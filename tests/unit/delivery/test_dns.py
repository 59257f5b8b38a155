"""ecelerity/delivery/dns.py against a real dnsmasq on loopback (tests/helpers/dns_server.py)."""
from __future__ import annotations

import socket
import time

import gevent
import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.delivery.dns import DnsError, DnsResolver, read_resolv_conf
from tests.helpers.dns_server import start_dns

BIG_MX = [("big.test", f"mx-with-a-rather-long-hostname-number-{i}.big.test", i) for i in range(1, 31)]


@pytest.fixture(scope="module")
def server():
    with start_dns(
        mx=[("a.test", "mx1.a.test", 10), ("a.test", "mx2.a.test", 20), *BIG_MX],
        hosts={"mx1.a.test": ["127.0.0.2"], "mx2.a.test": ["127.0.0.3"],
               "aonly.test": ["127.0.0.4"], "mx-with-a-rather-long-hostname-number-1.big.test":
               ["127.0.0.5"]},
        raw=[("nullmx.test", 15, "000000")], ttl=300,
    ) as dns_server:
        yield dns_server


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_mx_hosts_come_back_in_preference_order_with_addresses(server):
    hosts = DnsResolver(nameserver=server.address).resolve_mx("A.Test.")
    assert [(h.name, h.preference, h.addresses) for h in hosts] == [
        ("mx1.a.test", 10, ("127.0.0.2",)), ("mx2.a.test", 20, ("127.0.0.3",))]
    assert not hosts[0].implicit


def test_no_mx_falls_back_to_the_a_record_as_implicit_mx(server):
    hosts = DnsResolver(nameserver=server.address).resolve_mx("aonly.test")
    assert [(h.name, h.preference, h.addresses, h.implicit) for h in hosts] == [
        ("aonly.test", 0, ("127.0.0.4",), True)]


def test_null_mx_is_a_permanent_failure(server):
    with pytest.raises(DnsError) as caught:
        DnsResolver(nameserver=server.address).resolve_mx("nullmx.test")
    assert caught.value.permanent and caught.value.code == 556 and caught.value.enhanced == "5.1.10"


def test_nxdomain_is_domain_lookup_failed_and_is_cached(server):
    resolver = DnsResolver(nameserver=server.address)
    for _ in range(3):
        with pytest.raises(DnsError) as caught:
            resolver.resolve_mx("nope.test")
        assert str(caught.value) == "554 5.4.4 [internal] Domain Lookup Failed"
    assert resolver.queries_sent == 1


def test_answers_are_cached_for_their_ttl_clamped_by_min_and_max(server):
    clock = FakeClock()
    resolver = DnsResolver(nameserver=server.address, clock=clock, max_ttl=60)
    resolver.resolve_addresses("aonly.test")
    clock.now += 59
    resolver.resolve_addresses("aonly.test")
    assert resolver.queries_sent == 1
    clock.now += 2  # past max_ttl=60 although the record says 300
    resolver.resolve_addresses("aonly.test")
    assert resolver.queries_sent == 2
    clock2 = FakeClock()
    raised = DnsResolver(nameserver=server.address, clock=clock2, min_ttl=1000)
    raised.resolve_addresses("aonly.test")
    clock2.now += 900  # the 300 s TTL was raised to min_ttl=1000
    raised.resolve_addresses("aonly.test")
    assert raised.queries_sent == 1


def test_truncated_answer_is_retried_over_tcp_only_when_enabled(server):
    with_tcp = DnsResolver(nameserver=server.address, fallback_to_tcp=True)
    hosts = with_tcp.resolve_mx("big.test")
    assert len(hosts) == 30 and with_tcp.tcp_queries_sent == 1
    assert hosts[0].addresses == ("127.0.0.5",)
    udp_only = DnsResolver(nameserver=server.address)
    assert len(udp_only.resolve_mx("big.test")) < 30 and udp_only.tcp_queries_sent == 0


def test_silent_server_is_a_transient_failure():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        resolver = DnsResolver(nameserver=silent.getsockname(), timeout=0.3, attempts=1)
        with pytest.raises(DnsError) as caught:
            resolver.resolve_mx("a.test")
    assert not caught.value.permanent and caught.value.code == 451


def test_concurrent_lookups_share_one_query(server):
    resolver = DnsResolver(nameserver=server.address)
    jobs = [gevent.spawn(resolver.resolve_addresses, "mx1.a.test") for _ in range(50)]
    gevent.joinall(jobs, raise_error=True)
    assert all(job.value == ["127.0.0.2"] for job in jobs)
    assert resolver.queries_sent == 1


def test_a_slow_server_does_not_block_the_hub():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        resolver = DnsResolver(nameserver=silent.getsockname(), timeout=0.4, attempts=1)
        ticks = []

        def tick():
            while True:
                ticks.append(time.monotonic())
                gevent.sleep(0.01)

        ticker = gevent.spawn(tick)
        gevent.sleep(0)
        started = time.monotonic()
        with pytest.raises(DnsError):
            resolver.resolve_addresses("mx1.a.test")
        ticker.kill()
    assert time.monotonic() - started >= 0.35
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 20 and max(gaps) < 0.2  # other greenlets ran throughout the wait


def test_resolv_conf_option_points_at_the_servers_listed_there(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.9\nnameserver ::1\n")
    assert read_resolv_conf(str(conf)) == [("127.0.0.9", 53), ("::1", 53)]
    cfg = load_config_text(f'resolv_conf = "{conf}"\nmin_dns_ttl = 30\ndns_fallback_to_tcp = true\n')
    resolver = DnsResolver.from_config(cfg)
    assert resolver.nameservers == [("127.0.0.9", 53), ("::1", 53)]
    assert resolver.min_ttl == 30 and resolver.fallback_to_tcp
    assert read_resolv_conf(str(tmp_path / "missing")) == []


def test_resolv_conf_nameserver_may_name_a_port(tmp_path):
    """Regression: resolv_conf could only name port-53 servers, so the daemon could not
    be pointed at a test (or local unprivileged) resolver on another port."""
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nnameserver 127.0.0.1:5353\nnameserver [::1]:5300\n"
                    "nameserver ::1\nnameserver fe80::1%lo\nnameserver bogus\n"
                    "nameserver 127.0.0.1:99999\nnameserver 127.0.0.1:x\nsearch test\n")
    assert read_resolv_conf(str(conf)) == [("127.0.0.1", 5353), ("::1", 5300), ("::1", 53),
                                           ("fe80::1%lo", 53)]


def test_resolver_reads_a_ported_resolv_conf_and_answers(tmp_path):
    with start_dns(mx=[("a.test", "mx1.a.test", 10)], hosts={"mx1.a.test": ["127.0.0.2"]}) as server:
        conf = tmp_path / "resolv.conf"
        conf.write_text(f"nameserver {server.address[0]}:{server.address[1]}\n")
        cfg = load_config_text(f'resolv_conf = "{conf}"\n')
        hosts = DnsResolver.from_config(cfg).resolve_mx("a.test")
    assert [(h.name, h.addresses) for h in hosts] == [("mx1.a.test", ("127.0.0.2",))]
