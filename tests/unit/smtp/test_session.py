"""The Session state machine driven in-process over a real socketpair, with the real Spool.

Includes the fuzz test: arbitrary command lines never crash a session -- every line
gets well-formed replies or the session closes cleanly, never "421 4.3.0 local error".
"""
from __future__ import annotations

import re

import gevent
import pytest
from gevent import socket as gsocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecelerity.core.spool import Spool
from ecelerity.smtp.session import Session, ehlo_capabilities, register_capability
from ecelerity.smtp.settings import SessionSettings

REPLY_LINE = re.compile(rb"[2-5]\d\d[ -][^\r\n]*\r\n")


@pytest.fixture(scope="module")
def spool(tmp_path_factory):
    sp = Spool(str(tmp_path_factory.mktemp("spool")), fsync=False)
    yield sp
    sp.close()


def converse(spool, payload: bytes, **overrides) -> tuple[bytes, Session]:
    server_sock, client_sock = gsocket.socketpair()
    settings_ = SessionSettings(hostname="mx.test", relay_domains=("example.com",), **overrides)
    session = Session(server_sock, ("127.0.0.1", 4242), settings=settings_, spool=spool)
    worker = gevent.spawn(session.run)
    client_sock.sendall(payload)
    client_sock.shutdown(gsocket.SHUT_WR)
    out = b""
    with gevent.Timeout(10):
        while True:
            chunk = client_sock.recv(65536)
            if not chunk:
                break
            out += chunk
        worker.join()
    client_sock.close()
    assert worker.successful()
    return out, session


def test_full_transaction_and_state(spool):
    before = len(spool)
    out, session = converse(spool, b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\n"
                                   b"DATA\r\nFrom: a@b.org\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    lines = out.split(b"\r\n")
    assert lines[0].startswith(b"220 2.0.0 mx.test ESMTP ecelerity ")
    assert b"250 2.0.0 OK " in out and out.endswith(b"221 2.3.0 mx.test closing connection\r\n")
    assert session.state == "closed" and session.messages_accepted == 1
    assert len(spool) == before + 1
    assert session.vctx.conn["connection_message_count"] == "1"


def test_static_banner_and_capability_seams(spool):
    out, _ = converse(spool, b"QUIT\r\n", static_banner="220 welcome to the test")
    assert out.startswith(b"220 welcome to the test\r\n")

    def provider(session):
        return ["XTEST"]
    register_capability(provider)
    try:
        session = Session(None, ("127.0.0.1", 1), settings=SessionSettings(max_message_size=10), spool=spool)
        assert ehlo_capabilities(session)[:2] == ["PIPELINING", "SIZE 10"]
        assert "XTEST" in ehlo_capabilities(session)
        session.capability_edits += [("remove", "SMTPUTF8"), ("add", "XDUMPCONTEXT")]
        caps = ehlo_capabilities(session)
        assert "SMTPUTF8" not in caps and caps[-1] == "XDUMPCONTEXT"
    finally:
        from ecelerity.smtp.session import CAPABILITY_PROVIDERS
        CAPABILITY_PROVIDERS.remove(provider)


def test_too_many_bad_commands_close_the_session(spool):
    out, session = converse(spool, b"FOO\r\n" * 30)
    assert out.count(b"500 5.5.2 unrecognized command") == 19
    assert out.endswith(b"421 4.7.0 too many errors, closing connection\r\n")


commands = st.sampled_from([b"EHLO x.test", b"HELO x", b"MAIL FROM:<a@b.org>", b"MAIL FROM:<>",
                            b"RCPT TO:<x@example.com>", b"RCPT TO:<y@evil.test>", b"DATA", b"RSET",
                            b"NOOP", b"VRFY a", b"BDAT 10", b"STARTTLS", b"MAIL FROM:<a@b.org> SIZE=9"])
lines = st.one_of(commands, st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, max_size=25), st.sampled_from([b"\r\n", b"\n"]))
def test_fuzz_session_replies_or_closes_cleanly(spool, script, eol):
    payload = b"".join(line + eol for line in script)
    out, _ = converse(spool, payload, idle_time=5)
    assert out.startswith(b"220 ")
    assert b"4.3.0 local error" not in out
    pos = 0
    while pos < len(out):  # the whole output is well-formed reply lines
        match = REPLY_LINE.match(out, pos)
        assert match, out[pos:pos + 80]
        pos = match.end()


def test_session_time_limit_ends_a_busy_session_and_zero_means_unlimited(spool):
    server_sock, client_sock = gsocket.socketpair()
    settings_ = SessionSettings(hostname="mx.test", session_time_limit=0.5)
    worker = gevent.spawn(Session(server_sock, ("127.0.0.1", 1), settings=settings_, spool=spool).run)
    out = b""
    started = gevent.get_hub().loop.now()
    with gevent.Timeout(5):
        while not out.endswith(b"4.4.2 session time limit reached, closing connection\r\n"):
            client_sock.sendall(b"NOOP\r\n")  # never idle: only the whole-session bound can end it
            gevent.sleep(0.05)
            out += client_sock.recv(65536)
        worker.join()
    assert 0.4 < gevent.get_hub().loop.now() - started < 2.0
    assert out.count(b"250 2.0.0") >= 3
    client_sock.close()
    unlimited = Session(None, ("127.0.0.1", 1), settings=SessionSettings(session_time_limit=0), spool=spool)
    assert unlimited._deadline == float("inf")


# -- idle_time per line, not per recv() (trickling slowloris) ---------------------------------
IDLE = 0.6
PREFIX = b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\n"


def read_all(sock) -> bytes:
    """Everything until EOF; a reset (the server closed with our bytes unread) ends it too."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def trickle(spool, opening: bytes, pieces: list[bytes], interval: float, **overrides) -> tuple[bytes, float]:
    """Send opening, then one piece per interval until the session closes (or pieces run out);
    returns (everything the server sent, seconds from the first piece to the close)."""
    server_sock, client_sock = gsocket.socketpair()
    settings_ = SessionSettings(hostname="mx.test", relay_domains=("example.com",), idle_time=IDLE,
                                **overrides)
    worker = gevent.spawn(Session(server_sock, ("127.0.0.1", 4242), settings=settings_, spool=spool).run)
    client_sock.sendall(opening)
    started = gevent.get_hub().loop.now()
    reader = gevent.spawn(read_all, client_sock)
    with gevent.Timeout(10):
        for piece in pieces:
            if reader.ready():
                break
            try:
                client_sock.sendall(piece)
            except OSError:
                break
            gevent.sleep(interval)
        client_sock.shutdown(gsocket.SHUT_WR)
        out = reader.get()
        elapsed = gevent.get_hub().loop.now() - started
        worker.join()
    client_sock.close()
    return out, elapsed


def test_a_command_line_trickled_byte_by_byte_is_cut_at_idle_time(spool):
    out, elapsed = trickle(spool, b"EHLO c.test\r\n", [b"N"] * 40, 0.1)  # each recv() waits 0.1 s
    assert out.endswith(b"421 4.4.2 idle timeout, closing connection\r\n"), out[-200:]
    assert IDLE - 0.05 < elapsed < IDLE + 0.5, elapsed


def test_slow_complete_lines_each_get_their_own_idle_time(spool):
    out, elapsed = trickle(spool, b"EHLO c.test\r\n", [b"NO", b"OP\r\n"] * 3 + [b"QUIT\r\n"], 0.22)
    assert out.count(b"250 2.0.0") >= 3 and out.endswith(b"221 2.3.0 mx.test closing connection\r\n")
    assert elapsed > 2 * IDLE  # the session outlived idle_time: no line took that long


def test_a_data_line_trickled_byte_by_byte_is_cut_at_idle_time(spool):
    out, elapsed = trickle(spool, PREFIX + b"DATA\r\nSubject: x\r\n\r\n", [b"y"] * 40, 0.1)
    assert b"354 " in out and out.endswith(b"421 4.4.2 idle timeout, closing connection\r\n"), out[-200:]
    assert IDLE - 0.05 < elapsed < IDLE + 0.5, elapsed


def test_a_slow_body_of_complete_lines_is_accepted(spool):
    before = len(spool)
    out, elapsed = trickle(spool, PREFIX + b"DATA\r\n", [b"From: a@b.org\r\n", b"\r\n", b"one\r\n", b"two\r\n",
                                                          b"three\r\n", b".\r\n", b"QUIT\r\n"], 0.2)
    assert b"250 2.0.0 OK " in out and out.endswith(b"221 2.3.0 mx.test closing connection\r\n"), out
    assert elapsed > 2 * IDLE and len(spool) == before + 1


def test_a_bdat_chunk_trickled_is_cut_and_a_steady_one_is_not(spool):
    out, elapsed = trickle(spool, PREFIX + b"BDAT 5000 LAST\r\n", [b"z" * 10] * 40, 0.1)
    assert out.endswith(b"421 4.4.2 idle timeout, closing connection\r\n"), out[-200:]
    assert IDLE - 0.05 < elapsed < IDLE + 0.5, elapsed
    body = b"From: a@b.org\r\n\r\n" + b"b" * 2983  # 3000 octets at 1000 octets per 0.3 s
    out, elapsed = trickle(spool, PREFIX + b"BDAT 3000 LAST\r\n",
                           [body[i:i + 500] for i in range(0, 3000, 500)] + [b"QUIT\r\n"], 0.15)
    assert b"250 2.0.0 OK " in out and out.endswith(b"221 2.3.0 mx.test closing connection\r\n"), out
    assert elapsed > IDLE
