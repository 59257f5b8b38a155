"""ecelerity/antivirus/clamd.py against a real clamd: INSTREAM verdicts, failures, bounds."""
from __future__ import annotations

import socket
import time

import pytest

from ecelerity.antivirus.clamd import CHUNK, ClamdClient, parse_address, parse_reply
from tests.helpers.clamd import EICAR, REPORTED, start_clamd


def test_eicar_is_found_with_the_signature_name(clamd):
    reply = ClamdClient(clamd.socket_path, timeout=5).scan(b"prefix " + EICAR + b" suffix")
    assert (reply.virus, reply.error, reply.clean) == (REPORTED, None, False)
    assert reply.raw == f"stream: {REPORTED} FOUND"


def test_clean_data_is_ok(clamd):
    reply = ClamdClient(clamd.socket_path, timeout=5).scan(b"just a letter\r\n" * 100)
    assert reply.clean and reply.raw == "stream: OK"


def test_data_spanning_many_chunks_is_streamed_whole(clamd):
    # the signature straddles a chunk boundary: found only if chunks are framed right
    data = b"a" * (CHUNK * 3 - 20) + EICAR + b"b" * 1000
    assert ClamdClient(clamd.socket_path, timeout=5).scan(data).virus == REPORTED


def test_ping_and_version_commands(clamd):
    client = ClamdClient(f"unix:{clamd.socket_path}", timeout=5)
    assert client.command("PING") == "PONG"
    assert client.command("VERSION").startswith("ClamAV ")


def test_nothing_listening_is_an_error_reply_naming_the_address(tmp_path):
    client = ClamdClient(str(tmp_path / "no-such.sock"), timeout=2)
    reply = client.scan(EICAR)
    assert reply.virus is None and "no-such.sock" in reply.error


def test_refused_tcp_port_is_an_error_reply():
    with socket.socket() as sock:  # a port that was free: nobody listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reply = ClamdClient(f"127.0.0.1:{port}", timeout=2).scan(b"x")
    assert reply.error and "refused" in reply.error.lower()


def test_a_hung_clamd_is_cut_at_the_timeout(tmp_path):
    with start_clamd(tmp_path) as server:
        server.pause()  # SIGSTOP: accepts nothing more, answers nothing
        started = time.monotonic()
        reply = ClamdClient(server.socket_path, timeout=1).scan(EICAR)
        elapsed = time.monotonic() - started
        server.resume()
    assert reply.error == f"clamd at {server.socket_path} did not answer within 1s"
    assert 0.9 < elapsed < 3


@pytest.mark.parametrize("text, family, address", [
    ("/run/clamd.ctl", socket.AF_UNIX, "/run/clamd.ctl"),
    ("unix:/tmp/c.sock", socket.AF_UNIX, "/tmp/c.sock"),
    ("127.0.0.1:3310", socket.AF_INET, ("127.0.0.1", 3310)),
    ("[::1]:3310", socket.AF_INET6, ("::1", 3310)),
])
def test_parse_address(text, family, address):
    assert parse_address(text) == (family, address)


@pytest.mark.parametrize("text", ["localhost", "::1:3310", "host:99999", "host:", "[::1]"])
def test_parse_address_refuses_what_is_not_an_address(text):
    with pytest.raises(ValueError, match="expected host:port"):
        parse_address(text)


@pytest.mark.parametrize("line, virus, error", [
    ("stream: OK\0", None, None),
    ("stream: Win.Test.EICAR_HDB-1 FOUND\0", "Win.Test.EICAR_HDB-1", None),
    ("INSTREAM size limit exceeded. ERROR\0", None, "INSTREAM size limit exceeded"),
    ("stream: Can't allocate memory ERROR", None, "Can't allocate memory"),
    ("", None, "empty clamd reply"),
    ("what?", None, "unexpected clamd reply 'what?'"),
])
def test_parse_reply(line, virus, error):
    reply = parse_reply(line)
    assert (reply.virus, reply.error) == (virus, error)
