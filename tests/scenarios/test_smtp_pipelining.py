"""PIPELINING (RFC 2920): a whole transaction sent in one write gets every reply, in order."""
from __future__ import annotations

import time

from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener { Listen "127.0.0.1:0" { } }
"""


def test_pipelined_batches(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        # greeting, envelope and DATA in one write; the body only after 354
        c.send(b"EHLO client.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\n"
               b"RCPT TO:<nope@evil.test>\r\nRCPT TO:<y@example.com>\r\nDATA\r\n")
        codes = [c.read_reply().code for _ in range(6)]
        assert codes == [250, 250, 250, 550, 250, 354]
        # body, end of data and the next transaction in one write
        c.send(b"From: a@b.org\r\n\r\none\r\n.\r\nMAIL FROM:<c@b.org>\r\nRCPT TO:<z@example.com>\r\n"
               b"DATA\r\n")
        replies = [c.read_reply() for _ in range(4)]
        assert [r.code for r in replies] == [250, 250, 250, 354]
        c.send(b"From: c@b.org\r\n\r\ntwo\r\n.\r\nQUIT\r\n")
        assert c.read_reply().code == 250
        assert c.read_reply().code == 221
        assert c.is_closed()
    batches = read_spool(lst.spool_dir)
    assert [(e["mail_from"], r) for e, _, r in batches] == [
        ("a@b.org", ["x@example.com", "y@example.com"]), ("c@b.org", ["z@example.com"])]
    assert batches[0][1].endswith(b"\r\n\r\none\r\n") and batches[1][1].endswith(b"\r\n\r\ntwo\r\n")


def test_replies_to_a_batch_arrive_in_one_write(tmp_path):
    """The server batches replies: all replies to pipelined commands come in one segment."""
    with smtp_listener(tmp_path, CONF) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.send(b"EHLO client.test\r\nNOOP\r\nNOOP\r\nNOOP\r\nRSET\r\n")
        time.sleep(0.3)
        first = c.sock.recv(65536)
        assert first.count(b"250 2.0.0 ok\r\n") == 3
        assert first.endswith(b"250 2.0.0 reset\r\n")
