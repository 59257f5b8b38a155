"""ecelerity/smtp/trace.py: the trace registry (IP and CIDR targets, most specific wins,
off), the file format and mode, and a real Session over a socketpair carrying the exact
wiring proposed for smtp/session.py (``WiredSession`` below) so the whole conversation,
message body included, lands in the trace file."""
from __future__ import annotations

import os
import stat

import gevent
import pytest
from gevent import socket as gsocket

from ecelerity.core.spool import Spool
from ecelerity.smtp import trace
from ecelerity.smtp.session import Session
from ecelerity.smtp.settings import SessionSettings


@pytest.fixture
def registry(monkeypatch):
    fresh = trace.TraceRegistry()
    monkeypatch.setattr(trace, "REGISTRY", fresh)
    yield fresh
    fresh.stop()


def converse(tmp_path, peer_ip: str, payload: bytes) -> bytes:
    spool = Spool(str(tmp_path / f"spool-{peer_ip}"), fsync=False)
    server_sock, client_sock = gsocket.socketpair()
    settings = SessionSettings(hostname="mx.test", relay_domains=("example.com",))
    session = Session(server_sock, (peer_ip, 4242), settings=settings, spool=spool, conn_id="c1")
    worker = gevent.spawn(session.run)
    client_sock.sendall(payload)
    client_sock.shutdown(gsocket.SHUT_WR)
    out = b""
    with gevent.Timeout(10):
        while chunk := client_sock.recv(65536):
            out += chunk
        worker.join()
    client_sock.close()
    spool.close()
    return out


def test_a_traced_peer_gets_its_whole_conversation_written(registry, tmp_path):
    path = tmp_path / "logs" / "trace.log"
    started = registry.start("192.0.2.0/24", str(path), mode=0o600)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    out = converse(tmp_path, "192.0.2.9", b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\n"
                                          b"DATA\r\nFrom: a@b.org\r\n\r\nsecret body line\r\n.\r\nQUIT\r\n")
    converse(tmp_path, "198.51.100.1", b"EHLO other.test\r\nQUIT\r\n")  # not traced
    lines = path.read_text().splitlines()
    assert all(" <c1> 192.0.2.9:4242 " in line for line in lines)
    events = [line.split(" 192.0.2.9:4242 ", 1)[1] for line in lines]
    assert events[0] == "* session start" and events[-1] == "* session end"
    assert "< EHLO c.test" in events and "< secret body line" in events and "< QUIT" in events
    replies = [e[2:] for e in events if e.startswith("> ")]
    assert replies[0].startswith("220 ") and replies[-1].startswith("221 ")
    assert sum(r.startswith("250 ") for r in replies) >= 3
    assert len(replies) == out.count(b"\r\n")  # every reply line the client got, once
    assert "other.test" not in path.read_text()
    assert started.sessions == 1 and started.lines == len(lines)


def test_registry_targets_specificity_and_off(registry, tmp_path):
    wide = registry.start("10.0.0.0/8", str(tmp_path / "wide.log"))
    narrow = registry.start("10.1.2.3", str(tmp_path / "narrow.log"))
    assert registry.for_peer("10.1.2.3") is narrow
    assert registry.for_peer("10.9.9.9") is wide
    assert registry.for_peer("192.0.2.1") is None and registry.for_peer("not-an-ip") is None
    with pytest.raises(trace.TraceError, match="not an IP address"):
        registry.start("nonsense", str(tmp_path / "x.log"))
    with pytest.raises(trace.TraceError, match="cannot open trace file"):
        registry.start("10.0.0.1", str(tmp_path / "wide.log" / "under-a-file.log"))
    assert registry.stop("10.1.2.3") == [narrow] and narrow.handle is None
    assert registry.for_peer("10.1.2.3") is wide
    assert registry.stop() == [wide] and registry.traces() == []
    narrow.write("c", "p", "<", "after off")  # a session still holding it writes nothing
    assert (tmp_path / "narrow.log").read_text() == ""


def test_no_trace_costs_one_check(registry):
    class Bare:
        peer_ip = "127.0.0.1"
        conn_id = "x"
        peer_port = 1

    assert trace.tracer_for(Bare()) is None
