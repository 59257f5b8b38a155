"""Tests for ecelerity/core/spool_latency.py: the EOD -> 250 trace, through a real session
(socketpair), the real Spool with fsync, and the report that reads the trace."""
import gevent
import pytest
from gevent import socket as gsocket

from benchmarks.eod_trace_report import load, report
from ecelerity.core import spool_latency
from ecelerity.core.spool import Spool
from ecelerity.smtp.session import Session
from ecelerity.smtp.settings import SessionSettings

TRANSACTION = (b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
               b"From: a@b.org\r\n\r\nhi\r\n.\r\n")


def run_messages(tmp_path, count: int) -> bytes:
    spool = Spool(str(tmp_path / "spool"))
    server_sock, client_sock = gsocket.socketpair()
    settings = SessionSettings(hostname="mx.test", relay_domains=("example.com",))
    worker = gevent.spawn(Session(server_sock, ("127.0.0.1", 1), settings=settings,
                                  spool=spool).run)
    client_sock.sendall(TRANSACTION + b"MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\n"
                        b"DATA\r\nFrom: a@b.org\r\n\r\nhi again\r\n.\r\n" * (count - 1) + b"QUIT\r\n")
    client_sock.shutdown(gsocket.SHUT_WR)
    out = b""
    with gevent.Timeout(10):
        while chunk := client_sock.recv(65536):
            out += chunk
        worker.join()
    spool.close()
    return out


@pytest.fixture
def tracing(tmp_path, monkeypatch):
    prefix = str(tmp_path / "trace")
    monkeypatch.setattr(spool_latency, "ENABLED", True)
    monkeypatch.setattr(spool_latency, "_PREFIX", prefix)
    monkeypatch.setattr(spool_latency, "_file", None)
    yield prefix
    if spool_latency._file is not None:
        spool_latency._file.close()


def test_every_point_is_stamped_in_order_for_every_message(tmp_path, tracing):
    out = run_messages(tmp_path, 3)
    assert out.count(b"250 2.0.0 OK ") == 3
    rows = load(tracing)
    assert len(rows) == 3
    for row in rows:
        path = [row[point] for point in ("dot", "phases", "submit", "cycle_start",
                                         "cycle_done", "resumed")]
        assert path == sorted(path)
        # the 250 left from the journal I/O thread (DurableReply) right after the
        # fdatasync, before the committer resumed and the session woke up
        assert row["sent"] == row["cycle_done"] <= row["resumed"] <= row["woken"] <= row["built"]
    text = report(tracing)
    assert text.startswith("3 messages traced") and "cycle_done -> sent" in text


def test_off_by_default_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(spool_latency, "ENABLED", False)
    monkeypatch.setattr(spool_latency, "_PREFIX", str(tmp_path / "trace"))
    assert run_messages(tmp_path, 2).count(b"250 2.0.0 OK ") == 2
    assert load(str(tmp_path / "trace")) == []
    assert list(tmp_path.glob("trace*")) == []
