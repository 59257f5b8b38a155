"""500 idle connections do not delay a new client; idle clients are cut after idle_time."""
from __future__ import annotations

import resource
import socket
import time

import pytest

from tests.scenarios.smtp_harness import RawClient, smtp_listener

CONF = """
ESMTP_Listener { Listen "127.0.0.1:0" { idle_time = 30 } }
"""


def test_500_idle_connections_do_not_delay_a_new_client(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
        except (ValueError, OSError):
            pytest.skip(f"need ~1200 file descriptors, limit is {soft}")
    with smtp_listener(tmp_path, CONF) as lst:
        idle = []
        try:
            for _ in range(500):
                s = socket.create_connection(("127.0.0.1", lst.port), timeout=10)
                idle.append(s)
            for s in idle[::50]:  # they were really accepted: each got its banner
                assert s.recv(512).startswith(b"220 ")
            start = time.monotonic()
            c = RawClient(lst.port)
            assert c.read_reply().code == 220
            assert c.cmd("EHLO new.client").code == 250
            assert c.cmd("QUIT").code == 221
            elapsed = time.monotonic() - start
        finally:
            for s in idle:
                s.close()
    print(f"new client banner+EHLO+QUIT with 500 idle sessions: {elapsed * 1000:.1f} ms")
    assert elapsed < 1.0


def test_idle_client_is_disconnected(tmp_path):
    conf = CONF.replace("idle_time = 30", "idle_time = 1")
    with smtp_listener(tmp_path, conf) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        start = time.monotonic()
        reply = c.read_reply()
        assert (reply.code, reply.text) == (421, "4.4.2 idle timeout, closing connection")
        assert 0.8 < time.monotonic() - start < 5
        assert c.is_closed()
