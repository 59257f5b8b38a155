"""ecelerity/smtp/bdat.py: CHUNKING over a real loopback socket, bodies read back from the spool."""
from __future__ import annotations

import hashlib
import time

import pytest

from ecelerity.smtp import bdat  # noqa: F401 - registers BDAT and the DATA/RCPT guards
from ecelerity.smtp.settings import SessionSettings
from tests.helpers.inproc_smtp import SessionServer
from tests.scenarios.smtp_harness import RawClient

HEADERS = b"From: a@example.test\r\nSubject: chunks\r\n\r\n"


def settings_with(**values):
    def make(peer):
        settings = SessionSettings(hostname="mx.test")
        for name, value in values.items():
            setattr(settings, name, value)
        return settings
    return make


def start(port: int) -> RawClient:
    client = RawClient(port)
    assert client.read_reply().code == 220
    reply = client.cmd("EHLO c.test")
    assert "CHUNKING" in reply.lines
    assert client.cmd("MAIL FROM:<a@example.test>").code == 250
    assert client.cmd("RCPT TO:<postmaster>").code == 250
    return client


def body_of(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1]


def test_chunks_are_stored_byte_exact_without_dot_unstuffing(tmp_path):
    # ".\r\n" lines and "..": BDAT data is raw, nothing may be unstuffed or end the message
    chunks = [HEADERS + b"first\r\n.\r\n", b"..two dots\r\n", b"", b"last line\r\n"]
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        for i, chunk in enumerate(chunks):
            last = " LAST" if i == len(chunks) - 1 else ""
            client.send(f"BDAT {len(chunk)}{last}\r\n".encode() + chunk)
            reply = client.read_reply()
            if last:
                assert reply.code == 250 and reply.lines[0].startswith("2.0.0 OK")
            else:
                assert reply.lines == [f"2.0.0 {len(chunk)} octets received"]
        assert client.cmd("QUIT").code == 221
    [(_env, data, rcpts)] = srv.stored()
    assert rcpts == ["postmaster"]
    expected = b"".join(chunks)[len(HEADERS):]
    assert hashlib.sha256(body_of(data)).digest() == hashlib.sha256(expected).digest()


def test_chunk_split_across_many_writes_and_pipelined_commands_after_it(tmp_path):
    payload = HEADERS + bytes(range(256)).replace(b"\r", b"").replace(b"\n", b"") + b"\r\n" * 3
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        client.send(f"BDAT {len(payload)} LAST\r\n".encode())
        for i in range(0, len(payload), 7):
            client.send(payload[i:i + 7])
            time.sleep(0.001)
        assert client.read_reply().code == 250
        client.send(b"MAIL FROM:<b@example.test>\r\nRCPT TO:<postmaster>\r\nBDAT 0 LAST\r\nNOOP\r\n")
        codes = [client.read_reply().code for _ in range(4)]
        assert codes[:2] == [250, 250] and codes[3] == 250
        client.close()
    stored = srv.stored()
    assert body_of(stored[0][1]) == payload[len(HEADERS):]


def test_pipelined_chunks_in_one_write(tmp_path):
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        first, second = HEADERS + b"a\r\n", b"b\r\n"
        client.send(b"BDAT %d\r\n%sBDAT %d LAST\r\n%sNOOP\r\n" % (len(first), first, len(second), second))
        assert [client.read_reply().code for _ in range(3)] == [250, 250, 250]
        client.close()
    assert body_of(srv.stored()[0][1]) == b"a\r\nb\r\n"


def test_bdat_0_last_alone_is_an_empty_message(tmp_path):
    with SessionServer(tmp_path, settings_with(rfc2822_missing_headers="allow")) as srv:
        client = start(srv.port)
        assert client.cmd("BDAT 0 LAST").code == 250
        client.close()
    [(_env, data, _rcpts)] = srv.stored()
    assert data.endswith(b"\r\n")  # trace headers only


def test_data_and_rcpt_after_a_chunk_are_refused(tmp_path):
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        client.send(b"BDAT 5\r\nFrom:")
        assert client.read_reply().code == 250
        assert client.cmd("DATA").lines == ["5.5.1 DATA not allowed after BDAT in the same transaction"]
        assert client.cmd("RCPT TO:<postmaster>").code == 503
        rest = b" a@example.test\r\n\r\nbody\r\n"
        client.send(b"BDAT %d LAST\r\n%s" % (len(rest), rest))
        assert client.read_reply().code == 250
        client.close()
    assert body_of(srv.stored()[0][1]) == b"body\r\n"


def test_bdat_after_data_needs_a_new_mail_and_its_chunk_is_never_read_as_commands(tmp_path):
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        assert client.cmd("DATA").code == 354
        client.send(HEADERS + b"x\r\n.\r\n")
        assert client.read_reply().code == 250
        chunk = b"QUIT\r\n"
        client.send(b"BDAT %d LAST\r\n%s" % (len(chunk), chunk))
        reply = client.read_reply()
        assert (reply.code, reply.lines[0]) == (503, "5.5.1 MAIL FROM first")
        assert client.cmd("NOOP").code == 250  # the QUIT inside the chunk was data
        client.cmd("MAIL FROM:<a@example.test>")
        client.send(b"BDAT 6\r\nRSET\r\n")
        assert client.read_reply().code == 503  # no RCPT yet
        client.close()


def test_size_limit_reads_and_discards_then_552_and_the_session_goes_on(tmp_path):
    with SessionServer(tmp_path, settings_with(max_message_size=100)) as srv:
        client = start(srv.port)
        client.send(b"BDAT 60\r\n" + b"a" * 60)
        assert client.read_reply().code == 250
        client.send(b"BDAT 300 LAST\r\n" + b"NOOP\r\n" * 50)
        reply = client.read_reply()
        assert (reply.code, reply.lines[0][:5]) == (552, "5.3.4")
        assert client.cmd("NOOP").lines == ["2.0.0 ok"]  # exactly one reply for the 300 octets
        client.send(b"BDAT 1 LAST\r\nx")
        assert client.read_reply().code == 503  # the refused transaction is over
        client.close()
    assert srv.stored() == []


@pytest.mark.parametrize("arg", ["BDAT", "BDAT x", "BDAT -1", "BDAT 10 MORE", "BDAT 1234567890123456"])
def test_bad_arguments_close_the_connection(tmp_path, arg):
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        reply = client.cmd(arg)
        assert (reply.code, reply.lines[0][:5]) == (501, "5.5.4")
        assert client.is_closed()
        client.close()


def test_rset_discards_the_chunks(tmp_path):
    with SessionServer(tmp_path) as srv:
        client = start(srv.port)
        client.send(b"BDAT 4\r\nJUNK")
        assert client.read_reply().code == 250
        assert client.cmd("RSET").code == 250
        client.cmd("MAIL FROM:<a@example.test>")
        client.cmd("RCPT TO:<postmaster>")
        message = HEADERS + b"clean\r\n"
        client.send(b"BDAT %d LAST\r\n%s" % (len(message), message))
        assert client.read_reply().code == 250
        client.close()
    assert body_of(srv.stored()[0][1]) == b"clean\r\n"
