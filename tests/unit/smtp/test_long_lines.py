"""rfc2822_max_line_length(_policy): smtp/long_lines.py and the session acting on it.

The "fix" repair is checked against Python's email package: every part's decoded
payload is the same before and after, and no line is longer than the limit. The
session tests drive a real Session over a socketpair with a real Spool.
"""
from __future__ import annotations

import email
import email.policy

import gevent
import pytest
from gevent import socket as gsocket
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ecelerity.config.loader import load_config_text
from ecelerity.core.spool import Spool
from ecelerity.smtp.long_lines import MIN_FIX_LIMIT, fix_long_lines, longest_line
from ecelerity.smtp.session import Session
from ecelerity.smtp.settings import SessionSettings, clear_settings_cache


def _payloads(raw: bytes) -> list[tuple[str, bytes]]:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    return [(part.get_content_type(), part.get_payload(decode=True) or b"")
            for part in msg.walk() if not part.is_multipart()]


LONG = b"word " * 400  # 2000 bytes, breakable at spaces
SOLID = b"x" * 3000  # nowhere to fold


def test_longest_line_counts_without_terminators():
    assert longest_line(b"ab\r\ncde\nf\rghij") == 4
    assert longest_line(b"") == 0


def test_single_part_text_becomes_quoted_printable_with_same_content():
    raw = b"From: a@b.org\r\nSubject: t\r\n\r\nshort\r\n" + LONG + b"\r\n" + SOLID + b"\r\nend\r\n"
    fixed = fix_long_lines(raw, 998)
    assert longest_line(fixed) <= 998
    assert b"Content-Transfer-Encoding: quoted-printable\r\n" in fixed
    assert b"MIME-Version: 1.0\r\n" in fixed
    assert _payloads(fixed) == _payloads(raw)
    assert fixed.startswith(b"From: a@b.org\r\nSubject: t\r\n")


def test_multipart_fixes_only_the_parts_with_long_lines():
    untouched = (b"--B\r\nContent-Type: text/plain\r\n\r\nfine line\r\n")
    raw = (b"From: a@b.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
           + untouched
           + b"--B\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + "é".encode() * 800 + b"\r\n"
           + b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + b"QUJD" * 600 + b"\r\n"
           + b"--B--\r\n")
    fixed = fix_long_lines(raw, 998)
    assert longest_line(fixed) <= 998
    assert _payloads(fixed) == _payloads(raw)
    assert untouched in fixed  # a part without long lines keeps its bytes


def test_long_header_is_folded_and_value_kept():
    value = " ".join(f"<id{i}@example.com>" for i in range(120))
    raw = f"From: a@b.org\r\nReferences: {value}\r\n\r\nbody\r\n".encode()
    fixed = fix_long_lines(raw, 998)
    assert longest_line(fixed) <= 998
    msg = email.message_from_bytes(fixed)
    assert " ".join(msg["References"].split()) == value
    assert fixed.endswith(b"\r\n\r\nbody\r\n")


def test_message_without_long_lines_is_returned_unchanged():
    raw = b"From: a@b.org\r\n\r\n" + b"y" * 998 + b"\r\n"
    assert fix_long_lines(raw, 998) is raw


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=6), st.integers(40, 1200))
@example(lines=[b"\x00" * 41], limit=40)  # once broke our own Content-Transfer-Encoding line
@example(lines=[b"\x00" * 100], limit=40)
def test_fix_bounds_every_line_and_keeps_a_single_part_payload(lines, limit):
    body = b"\r\n".join(line.replace(b"\r", b"").replace(b"\n", b"") for line in lines) + b"\r\n"
    raw = b"From: a@b.org\r\nContent-Type: text/plain\r\n\r\n" + body
    fixed = fix_long_lines(raw, limit)
    assert longest_line(fixed) <= max(limit, MIN_FIX_LIMIT)
    if longest_line(raw) > max(limit, MIN_FIX_LIMIT):
        assert _payloads(fixed) == _payloads(raw)
    else:
        assert fixed == raw


# -- the session ---------------------------------------------------------------------

@pytest.fixture()
def spool(tmp_path):
    sp = Spool(str(tmp_path / "spool"), fsync=False)
    yield sp
    sp.close()


def _send(spool, settings_: SessionSettings, message: bytes) -> bytes:
    server_sock, client_sock = gsocket.socketpair()
    session = Session(server_sock, ("127.0.0.1", 4242), settings=settings_, spool=spool)
    worker = gevent.spawn(session.run)
    client_sock.sendall(b"EHLO c.test\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"
                        + message + b".\r\nQUIT\r\n")
    client_sock.shutdown(gsocket.SHUT_WR)
    out = b""
    with gevent.Timeout(10):
        while chunk := client_sock.recv(65536):
            out += chunk
        worker.join()
    client_sock.close()
    return out


def _settings(conf: str) -> SessionSettings:
    clear_settings_cache()
    cfg = load_config_text('relay_domains = ( "example.com" )\n' + conf
                           + '\nESMTP_Listener { Listen "127.0.0.1:0" { } }\n')
    return SessionSettings.resolve(cfg, listen="127.0.0.1:0", peer_ip="127.0.0.1")


MESSAGE = b"From: a@b.org\r\nSubject: long\r\n\r\n" + LONG + b"\r\n"


@pytest.mark.parametrize("conf, action, limit", [
    ("", "none", 0),
    ('rfc2822_max_line_length = "pedantic"', "reject", 998),
    ('rfc2822_max_line_length = "fix"', "fix", 998),
    ("rfc2822_max_line_length = 2048", "none", 0),
    ('rfc2822_max_line_length = 2048\nrfc2822_max_line_length_policy = "reject"', "reject", 2048),
    ('rfc2822_max_line_length_policy = "fix"', "fix", 998),
])
def test_options_combine_as_momentum_documents(conf, action, limit):
    settings_ = _settings(conf)
    assert (settings_.line_action, settings_.line_limit) == (action, limit)


def test_pedantic_refuses_and_spools_nothing(spool):
    out = _send(spool, _settings('rfc2822_max_line_length = "pedantic"'), MESSAGE)
    assert b"550 5.6.0 message contains a line longer than the permitted limit\r\n" in out
    assert len(spool) == 0


def test_numeric_limit_with_reject_policy_accepts_shorter_lines(spool):
    conf = 'rfc2822_max_line_length = 2048\nrfc2822_max_line_length_policy = "reject"'
    out = _send(spool, _settings(conf), MESSAGE)  # 2000-byte line: under 2048
    assert b"250 2.0.0 OK" in out and len(spool) == 1


def test_fix_spools_a_repaired_message_with_the_same_content(spool):
    out = _send(spool, _settings('rfc2822_max_line_length = "fix"'), MESSAGE)
    assert b"250 2.0.0 OK" in out
    stored = spool.read_body(spool.messages()[0])
    assert longest_line(stored) <= 998
    assert _payloads(stored) == _payloads(MESSAGE)


def test_default_ignores_long_lines(spool):
    out = _send(spool, _settings(""), MESSAGE)
    assert b"250 2.0.0 OK" in out
    stored = spool.read_body(spool.messages()[0])
    assert stored.endswith(b"\r\n\r\n" + LONG + b"\r\n") and b"=\r\n" not in stored
