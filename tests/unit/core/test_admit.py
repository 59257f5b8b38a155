"""ecelerity/core/admit.py and its two callers (smtp/accept.py, http/inject.py): a message is
counted, logged and admitted to its queue only once the spool made it durable; a spool
failure admits nothing and maps to 452 4.3.1 / 451 4.3.0 (SMTP) or 503 / a legacy
"failure" (HTTP). Real Spool in tmp_path, real SMTP session over a socketpair; only the
segment write (os.pwritev) is made to fail, as in test_spool.py."""
from __future__ import annotations

import errno
import json
import os
from types import SimpleNamespace

import gevent
import pytest
from gevent import socket as gsocket

from ecelerity.config.loader import load_config_text
from ecelerity.core import spool_commit
from ecelerity.core.admit import store_and_admit
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool, SpoolError, SpoolFullError
from ecelerity.core.spool_in import load_segments
from ecelerity.http import inject
from ecelerity.smtp.session import Session
from ecelerity.smtp.settings import SessionSettings

SMTP_MESSAGE = (b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\n"
                b"RCPT TO:<y@example.com>\r\nDATA\r\nFrom: a@b.org\r\n\r\nhi\r\n.\r\n")


class DiskCheckingQueue:
    """The queue end: at admit time, reads the spool's segments from disk (read-only)."""

    def __init__(self, spool: Spool) -> None:
        self.spool, self.admitted, self.on_disk = spool, [], []
        self.observers: list = []  # ecelerity.stats attaches its observer here

    def admit(self, batch) -> None:
        self.admitted.append(batch)
        on_disk = load_segments(self.spool.base_dir, repair=False, fsync=False)
        self.on_disk.append({m.id for m in on_disk.messages})


@pytest.fixture
def spool(tmp_path):
    sp = Spool(str(tmp_path / "spool"))
    yield sp
    sp.close()


@pytest.fixture
def synced(monkeypatch):
    """fdatasync calls that returned (the real call, recorded)."""
    done: list[int] = []
    real = os.fdatasync

    def recording(fd):
        real(fd)
        done.append(fd)

    monkeypatch.setattr(spool_commit.os, "fdatasync", recording)
    return done


def failing_writes(monkeypatch, error_number: int) -> None:
    def fail(fd, buffers, offset):
        raise OSError(error_number, os.strerror(error_number))
    monkeypatch.setattr(spool_commit.os, "pwritev", fail)


def envelope(*addresses: str) -> Envelope:
    return Envelope(mail_from="a@b.org", recipients=[Recipient(a) for a in addresses])


def test_admitted_counted_and_logged_only_after_the_record_is_durable(spool, synced):
    app = SimpleNamespace()
    queue = DiskCheckingQueue(spool)
    steps: list[str] = []

    def log_reception(batch):
        steps.append(f"log:{len(batch.messages)}:{len(synced)}")

    batch = store_and_admit(spool, envelope("x@e.test", "y@e.test"), [b"From: a\r\n", b"\r\nhi\r\n"],
                            batch_id=spool.idgen.next_id(), app=app, queue=queue,
                            log_reception=log_reception, counters_failed=steps.append)
    assert queue.admitted == [batch] and len(batch.messages) == 2
    assert queue.on_disk == [{m.id for m in batch.messages}]  # on disk when admitted
    assert synced and steps == [f"log:2:{len(synced)}"]  # logged after an fdatasync
    assert app.stats.total.get("received") == 2
    assert spool.read_body(batch.messages[0]) == b"From: a\r\n\r\nhi\r\n"


def test_on_durable_runs_before_the_queue_sees_the_batch(spool, synced):
    events: list[str] = []
    queue = SimpleNamespace(admit=lambda batch: events.append("admit"))
    store_and_admit(spool, envelope("x@e.test"), [b"x"], batch_id=spool.idgen.next_id(),
                    app=None, queue=queue, log_reception=lambda batch: events.append("log"),
                    counters_failed=events.append,
                    on_durable=lambda outcome: events.append(f"durable after {len(synced)} sync"))
    assert events == ["durable after 1 sync", "log", "admit"]


def test_a_broken_counter_is_reported_and_the_message_still_admitted(spool):
    class NoAttributes:
        __slots__ = ()  # stats.for_app cannot attach its Stats: it raises
    reported: list[Exception] = []
    queue = DiskCheckingQueue(spool)
    batch = store_and_admit(spool, envelope("x@e.test"), [b"x"], batch_id=spool.idgen.next_id(),
                            app=NoAttributes(), queue=queue, log_reception=lambda batch: None,
                            counters_failed=reported.append)
    assert queue.admitted == [batch] and len(reported) == 1
    assert isinstance(reported[0], AttributeError)


@pytest.mark.parametrize("error_number, error_type", [(errno.ENOSPC, SpoolFullError),
                                                      (errno.EIO, SpoolError)])
def test_a_spool_failure_admits_counts_and_logs_nothing(spool, monkeypatch, error_number,
                                                        error_type):
    app, queue, logged = SimpleNamespace(), DiskCheckingQueue(spool), []
    failing_writes(monkeypatch, error_number)
    with pytest.raises(error_type):
        store_and_admit(spool, envelope("x@e.test"), [b"x"], batch_id=spool.idgen.next_id(),
                        app=app, queue=queue, log_reception=logged.append,
                        counters_failed=logged.append)
    assert queue.admitted == [] and logged == [] and not hasattr(app, "stats")


# -- through smtp/accept.py: a real session on a socketpair ----------------------------------
def smtp_exchange(spool, service) -> tuple[bytes, Session]:
    server_sock, client = gsocket.socketpair()
    settings = SessionSettings(hostname="mx.test", relay_domains=("example.com",))
    session = Session(server_sock, ("127.0.0.1", 1), settings=settings, spool=spool,
                      service=service)
    worker = gevent.spawn(session.run)
    client.sendall(SMTP_MESSAGE + b"QUIT\r\n")
    out = b""
    with gevent.Timeout(5):
        while b"221 " not in out:
            chunk = client.recv(65536)
            if not chunk:
                break
            out += chunk
    worker.join(5)
    client.close()
    return out, session


def test_smtp_250_after_the_store_and_the_batch_admitted_on_disk(spool, synced):
    app = SimpleNamespace()
    queue = DiskCheckingQueue(spool)
    out, session = smtp_exchange(spool, SimpleNamespace(app=app, queue=queue))
    assert b"250 2.0.0 OK " in out and session.messages_accepted == 1
    [batch] = queue.admitted
    assert queue.on_disk == [{m.id for m in batch.messages}] and len(batch.messages) == 2
    assert app.stats.total.get("received") == 2 and synced
    assert session.vctx.conn["connection_message_count"] == "1"


@pytest.mark.parametrize("error_number, reply", [(errno.ENOSPC, b"452 4.3.1 "),
                                                 (errno.EIO, b"451 4.3.0 ")])
def test_smtp_spool_failure_is_a_4xx_and_nothing_admitted(spool, monkeypatch, error_number,
                                                          reply):
    app = SimpleNamespace()
    queue = DiskCheckingQueue(spool)
    failing_writes(monkeypatch, error_number)
    out, session = smtp_exchange(spool, SimpleNamespace(app=app, queue=queue))
    assert reply in out and b"250 2.0.0 OK" not in out
    assert queue.admitted == [] and session.messages_accepted == 0
    assert not hasattr(app, "stats") or app.stats.total.get("received") == 0


# -- through http/inject.py ---------------------------------------------------------------------
class Request:
    def __init__(self, body: dict) -> None:
        self.body = json.dumps(body).encode()
        self.settings = SimpleNamespace(rest_api_keys=("k1",))
        self.peer_ip, self.peer_port, self.listen = "127.0.0.1", 4000, "127.0.0.1:80"

    def header(self, name: str) -> str | None:
        return "k1" if name == "authorization" else None


def http_app(spool):
    app = SimpleNamespace(spool=spool, config=load_config_text("hostname = mx.test\n"),
                          lines=[])
    app.log = lambda area, text: app.lines.append((area, text))
    app.queue_manager = DiskCheckingQueue(spool)
    return app


TRANSMISSION = {"recipients": [{"address": "x@example.com"}, {"address": "y@example.com"}],
                "content": {"from": "a@b.org", "subject": "s", "text": "hi"}}


def test_http_transmission_admitted_only_once_on_disk(spool, synced):
    app = http_app(spool)
    response = inject.handle(SimpleNamespace(app=app), "transmissions", Request(TRANSMISSION))
    assert response.status == 200, response
    assert len(app.queue_manager.admitted) == 2  # one message per recipient
    for batch, on_disk in zip(app.queue_manager.admitted, app.queue_manager.on_disk, strict=True):
        assert {m.id for m in batch.messages} <= on_disk
    assert app.stats.total.get("received") == 2 and synced
    assert not any("failed" in text or "not logged" in text for _area, text in app.lines)


@pytest.mark.parametrize("error_number", [errno.ENOSPC, errno.EIO])
def test_http_spool_failure_is_a_503_and_legacy_failure(spool, monkeypatch, error_number):
    app = http_app(spool)
    failing_writes(monkeypatch, error_number)
    response = inject.handle(SimpleNamespace(app=app), "transmissions", Request(TRANSMISSION))
    assert response.status == 503
    legacy = {"template": "Subject: s\n\nhi\n",
              "recipients": [{"to": "x@example.com", "from": "a@b.org"}]}
    response = inject.handle(SimpleNamespace(app=app), "legacy", Request(legacy))
    assert response.status == 200 and b"451 4.3.0 message not spooled" in response.body
    assert app.queue_manager.admitted == [] and not hasattr(app, "stats")
    assert any("spool refused injected message" in text for _area, text in app.lines)
