"""ecelerity/control/protocol.py: reply framing, dot-stuffing, command splitting, greeting."""
from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.control.protocol import (
    GREETING,
    ProtocolError,
    check_greeting,
    encode_reply,
    read_reply,
    split_command,
    take_json_flag,
)


def decode(data: bytes):
    return read_reply(io.BytesIO(data).readline)


def test_reply_is_status_line_body_and_dot():
    assert encode_reply(200, "ok", ["a", "b"]) == b"200 ok\na\nb\n.\n"
    assert encode_reply(404, "unknown command", []) == b"404 unknown command\n.\n"


def test_a_body_line_that_is_a_dot_is_stuffed_and_comes_back():
    wire = encode_reply(200, "ok", [".", "..x", "x."])
    assert wire == b"200 ok\n..\n...x\nx.\n.\n"
    reply = decode(wire)
    assert (reply.status, reply.text, reply.body) == (200, "ok", [".", "..x", "x."])


def test_status_text_is_one_line_and_code_is_three_digits():
    assert encode_reply(550, "Reconfigure\nfailed", []) == b"550 Reconfigure failed\n.\n"
    with pytest.raises(ValueError):
        encode_reply(42, "x", [])


def test_text_body_is_split_into_lines():
    assert decode(encode_reply(200, "ok", "one\ntwo\n")).body == ["one", "two"]


line_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).map(
    lambda s: "".join(s.splitlines()))


@settings(max_examples=400, deadline=None)
@given(status=st.integers(100, 599), text=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20),
       body=st.lists(line_text, max_size=12))
def test_any_body_survives_the_round_trip(status, text, body):
    reply = decode(encode_reply(status, text, body))
    assert (reply.status, reply.text, reply.body) == (status, text, body)
    assert reply.ok == (200 <= status < 300)


def test_reply_reader_reads_consecutive_replies_and_crlf():
    stream = io.BytesIO(b"200 ok\r\nx\r\n.\r\n500 boom\n.\n")
    assert read_reply(stream.readline).body == ["x"]
    second = read_reply(stream.readline)
    assert (second.status, second.text, second.body) == (500, "boom", [])


@pytest.mark.parametrize("wire, message", [
    (b"", "connection closed before the reply"),
    (b"200 ok\nline\n", "connection closed inside a reply body"),
    (b"OK fine\n.\n", "bad status line"),
])
def test_broken_framing_is_a_protocol_error(wire, message):
    with pytest.raises(ProtocolError, match=message):
        decode(wire)


def test_commands_split_like_a_shell():
    assert split_command('config eval Domain "a b" opt') == ["config", "eval", "Domain", "a b", "opt"]
    assert split_command("paniclog   5 ") == ["paniclog", "5"]
    with pytest.raises(ProtocolError, match="cannot split command line"):
        split_command('config eval "open')


def test_json_flag_is_taken_out_anywhere():
    assert take_json_flag(["help", "--json"]) == (["help"], True)
    assert take_json_flag(["--json", "config", "eval", "x"]) == (["config", "eval", "x"], True)
    assert take_json_flag(["pid"]) == (["pid"], False)


def test_greeting_names_protocol_and_version():
    assert check_greeting(GREETING + "\n") == 1
    with pytest.raises(ProtocolError, match="version 2"):
        check_greeting("ecelerity-control 2")
    with pytest.raises(ProtocolError, match="not an ecelerity control channel"):
        check_greeting("220 mail.example.com ESMTP")
