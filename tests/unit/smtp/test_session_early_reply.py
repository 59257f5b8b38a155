"""Tests for Session.early_reply (smtp/session.py, used by smtp/accept.py): the 250 leaves
from the spool's committer as soon as the record is durable, before the session greenlet
does its post-store work; never before the fdatasync. Real socketpair, real Spool."""
from __future__ import annotations

import os
import time

import gevent
import pytest
from gevent import socket as gsocket
from gevent.event import Event

from ecelerity.core import spool_commit
from ecelerity.core.spool import Spool
from ecelerity.smtp import accept
from ecelerity.smtp.replies import Reply
from ecelerity.smtp.session import Session
from ecelerity.smtp.settings import SessionSettings

MESSAGE = (b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
           b"From: a@b.org\r\n\r\nhi\r\n.\r\n")


@pytest.fixture
def spool(tmp_path):
    sp = Spool(str(tmp_path / "spool"))
    yield sp
    sp.close()


def start_session(spool):
    server_sock, client_sock = gsocket.socketpair()
    settings = SessionSettings(hostname="mx.test", relay_domains=("example.com",))
    session = Session(server_sock, ("127.0.0.1", 1), settings=settings, spool=spool)
    return session, gevent.spawn(session.run), client_sock


def read_until(sock, marker: bytes, timeout: float = 5) -> bytes:
    out = b""
    with gevent.Timeout(timeout):
        while marker not in out:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    return out


def test_the_250_arrives_while_the_session_is_still_busy_after_the_store(spool, monkeypatch):
    release = Event()
    real_log_reception = accept.log_reception

    def held_log_reception(session, batch):  # the session's post-store work, held back
        release.wait(5)
        real_log_reception(session, batch)

    monkeypatch.setattr(accept, "log_reception", held_log_reception)
    session, worker, client = start_session(spool)
    client.sendall(MESSAGE)
    out = read_until(client, b"250 2.0.0 OK ", timeout=3)  # without early_reply: Timeout
    assert b"250 2.0.0 OK " in out and not release.is_set()
    release.set()
    client.sendall(b"QUIT\r\n")
    out = read_until(client, b"221 ")
    assert out.count(b"250 2.0.0 OK ") == 0 and b"221 2.3.0" in out  # sent exactly once
    worker.join(5)
    assert worker.successful() and session.messages_accepted == 1
    assert session.last_reply is not None and session.last_reply.code == 221


def test_the_250_never_precedes_the_fdatasync(spool, monkeypatch):
    real_fdatasync = os.fdatasync
    synced_at = []

    def slow_fdatasync(fd):
        time.sleep(0.2)  # in the threadpool, like the real call
        real_fdatasync(fd)
        synced_at.append(time.monotonic())

    monkeypatch.setattr(spool_commit.os, "fdatasync", slow_fdatasync)
    session, worker, client = start_session(spool)
    client.sendall(MESSAGE)
    read_until(client, b"250 2.0.0 OK ")
    replied_at = time.monotonic()
    assert synced_at and synced_at[-1] <= replied_at
    client.close()
    worker.join(5)


def test_no_early_reply_when_replies_are_queued(spool):
    session, worker, client = start_session(spool)
    try:
        session.reply(250, "2.0.0", "queued")
        assert session.early_reply(Reply(250, "2.0.0", "OK x")) is None
        session._out.clear()
        assert session.early_reply(Reply(250, "2.0.0", "OK x")) is not None
    finally:
        worker.kill()
        client.close()


def test_no_early_reply_without_a_descriptor_to_dup(spool):
    session, worker, client = start_session(spool)
    try:
        worker.kill()
        session.sock.close()  # (as with EMFILE, os.dup fails): the session replies itself
        assert session.early_reply(Reply(250, "2.0.0", "OK x")) is None
    finally:
        client.close()
