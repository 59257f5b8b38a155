"""received_rdns: smtp/rdns.py against a real dnsmasq, and the Received: header it feeds.

The session test runs a real Session over a real loopback TCP connection from
127.0.0.9 (the source address the PTR record names) with a real Spool; the slow-DNS
test points the resolver at a UDP socket that never answers, to show the session
waits no longer than received_rdns_timeout and the failure is remembered.
"""
from __future__ import annotations

import socket
import time
from types import SimpleNamespace

import gevent
import pytest
from gevent import socket as gsocket

from ecelerity.core.spool import Spool
from ecelerity.delivery.dns import DnsResolver
from ecelerity.smtp.rdns import ReverseDns
from ecelerity.smtp.session import Session
from ecelerity.smtp.settings import SessionSettings
from tests.helpers.dns_server import start_dns


@pytest.fixture(scope="module")
def server():
    with start_dns(hosts={"client9.test": ["127.0.0.9"]}, ttl=300) as dns_server:
        yield dns_server


def test_ptr_name_of_a_known_address(server):
    resolver = DnsResolver(nameserver=server.address)
    rdns = ReverseDns(lambda: resolver)
    assert rdns.start("127.0.0.9").name(time.monotonic() + 2) == "client9.test"
    queries = resolver.queries_sent
    assert rdns.start("127.0.0.9").name(time.monotonic() + 2) == "client9.test"
    assert resolver.queries_sent == queries  # the resolver's TTL cache answered


def test_unknown_address_and_non_ip_give_none(server):
    rdns = ReverseDns(lambda: DnsResolver(nameserver=server.address))
    assert rdns.start("127.0.0.77").name(time.monotonic() + 2) is None
    assert rdns.start("/tmp/some.sock").name(time.monotonic() + 2) is None


def test_a_silent_server_costs_at_most_the_deadline_once():
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        resolver = DnsResolver(nameserver=silent.getsockname(), timeout=0.3, attempts=1)
        rdns = ReverseDns(lambda: resolver)
        started = time.monotonic()
        pending = rdns.start("127.0.0.9")
        assert pending.name(started + 0.1) is None
        assert time.monotonic() - started < 0.25
        gevent.sleep(0.4)  # the lookup times out and is remembered
        assert rdns.lookups == 1
        assert rdns.start("127.0.0.9").name(time.monotonic() + 1) is None
        assert rdns.lookups == 1  # answered from the failure cache, no new query
    finally:
        silent.close()


def _session_over_tcp(spool, settings_, service):
    listener = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_STREAM)
    client.bind(("127.0.0.9", 0))
    client.connect(listener.getsockname())
    conn, peer = listener.accept()
    listener.close()
    session = Session(conn, peer, settings=settings_, spool=spool, service=service)
    worker = gevent.spawn(session.run)
    client.sendall(b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
                   b"From: a@b.org\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    out = b""
    with gevent.Timeout(10):
        while chunk := client.recv(65536):
            out += chunk
        worker.join()
    client.close()
    return out


@pytest.mark.parametrize("enabled", [True, False])
def test_received_header_carries_the_name_when_enabled(server, tmp_path, enabled):
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    try:
        rdns = ReverseDns(lambda: DnsResolver(nameserver=server.address))
        service = SimpleNamespace(rdns=rdns)  # the seam SMTPService provides: .rdns
        settings_ = SessionSettings(hostname="mx.test", relay_domains=("example.com",),
                                    received_rdns=enabled)
        out = _session_over_tcp(spool, settings_, service)
        assert b"250 2.0.0 OK" in out
        stored = spool.read_body(spool.messages()[0])
        expected = b"(client9.test [127.0.0.9])" if enabled else b"(127.0.0.9 [127.0.0.9])"
        assert stored.startswith(b"Received: from c.test " + expected + b"\r\n")
        assert rdns.lookups == (1 if enabled else 0)
    finally:
        spool.close()
