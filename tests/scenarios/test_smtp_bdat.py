"""CHUNKING/BDAT against the real listener process (fsync on): chunked bodies arrive byte-exact."""
from __future__ import annotations

import hashlib
import os
import time

from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = '''
ESMTP_Listener {
  max_message_size = 200000
  Listen "127.0.0.1:0" { }
}
'''
HEADERS = b"From: a@example.test\r\nSubject: bdat\r\n\r\n"


def begin(port: int) -> RawClient:
    client = RawClient(port)
    client.read_reply()
    assert "CHUNKING" in client.cmd("EHLO c.test").lines
    assert client.cmd("MAIL FROM:<a@example.test>").code == 250
    assert client.cmd("RCPT TO:<postmaster>").code == 250
    return client


def test_chunked_binary_ish_body_with_dot_lines_is_stored_exactly(tmp_path):
    body = b"".join(os.urandom(500).replace(b"\r", b"").replace(b"\n", b"") + b"\r\n.\r\n"
                    for _ in range(60))
    message = HEADERS + body
    with smtp_listener(tmp_path, CONF) as lst:
        client = begin(lst.port)
        pieces = [message[i:i + 7000] for i in range(0, len(message), 7000)]
        for piece in pieces:
            client.send(b"BDAT %d\r\n" % len(piece))
            for i in range(0, len(piece), 1500):  # each chunk split over several writes
                client.send(piece[i:i + 1500])
                time.sleep(0.0005)
            assert client.read_reply().code == 250
        reply = client.cmd("BDAT 0 LAST")
        assert reply.code == 250 and reply.lines[0].startswith("2.0.0 OK ")
        client.cmd("QUIT")
        client.close()
    [(_env, data, rcpts)] = read_spool(lst.spool_dir)
    assert rcpts == ["postmaster"]
    assert hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).digest() == hashlib.sha256(body).digest()


def test_oversized_chunks_and_data_after_bdat(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        client = begin(lst.port)
        client.send(b"BDAT 4\r\nFrom")
        assert client.read_reply().code == 250
        assert client.cmd("DATA").code == 503
        client.send(b"BDAT 250000 LAST\r\n" + b"x" * 250000)
        reply = client.read_reply()
        assert (reply.code, reply.lines[0]) == (552, "5.3.4 message size limit exceeded")
        assert client.cmd("NOOP").code == 250
        client.close()
    assert read_spool(lst.spool_dir) == []
