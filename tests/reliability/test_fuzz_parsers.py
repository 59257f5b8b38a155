"""Hostile input: hypothesis fuzzing of every parser that reads bytes from strangers.

Each test runs a hypothesis search (bounded: 300 examples; ECELERITY_SOAK=1: 5,000)
and counts executions for RELIABILITY.md. Properties:
- SMTP command parser (smtp/commands.py): parse_command never raises on any line;
  MAIL/RCPT path parsing raises only CommandError (which carries an SMTP reply code
  and enhanced status), never anything else.
- DATA reader twins (_speedups/smtpline.py and _c_smtpline): the same input, chunked
  at random, gives byte-identical output, end offset and flags (skipped when the
  compiled twin is not built).
- Config parser (config/parser.py): parse_text returns a tree or raises ConfigError.
- MIME parser (core/mime.py): any bytes (and deeply nested multiparts) parse, walk and
  render back to the exact input without raising.
- Sieve parser (policy/sieve/parser.py): parse_script returns or raises SieveError.
Every crash found becomes an explicit regression example (``@example``) below.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ecelerity._speedups.smtpline import _py_DataReader
from ecelerity.config.errors import ConfigError
from ecelerity.config.parser import parse_text
from ecelerity.core.mime import Part
from ecelerity.policy.sieve.errors import SieveError
from ecelerity.policy.sieve.parser import parse_script
from ecelerity.smtp.commands import CommandError, parse_command, parse_path_command
from tests.reliability.conftest import scale

try:
    from ecelerity._speedups._c_smtpline import DataReader as _c_DataReader
except ImportError:
    _c_DataReader = None

EXAMPLES = scale(300, 5000)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
SMTP_ALPHABET = st.sampled_from([b"<", b">", b"@", b":", b",", b"\"", b"\\", b"%", b"!", b" ", b"\t",
                                 b"=", b"a", b"Z", b"0", b".", b"[", b"]", b"\xff", b"\xc3\xa9",
                                 b"FROM:", b"TO:", b"SIZE=", b"BODY=8BITMIME", b"NOTIFY=", b"\x00"])


def run_counted(test) -> int:
    """Run a hypothesis-decorated ``test(counter, ...)``; return how many times it ran."""
    counter = [0]
    test(counter)
    return counter[0]


@pytest.mark.timeout(120)
def test_smtp_command_parser(figures):
    @FUZZ
    @given(parts=st.lists(SMTP_ALPHABET, max_size=40), keyword=st.sampled_from(["FROM", "TO"]),
           pedantic=st.booleans(), rcpt=st.booleans())
    @example(parts=[b"TO:", b"<", b"@", b"a", b":", b"b", b"@", b"c", b">"], keyword="TO",
             pedantic=True, rcpt=True)
    @example(parts=[b"FROM:", b"<", b"\"", b"\\", b"\"", b"@", b"a", b">"], keyword="FROM",
             pedantic=False, rcpt=False)
    def fuzz(counter, parts, keyword, pedantic, rcpt):
        counter[0] += 1
        line = b"".join(parts)
        command = parse_command(b"MAIL " + line)
        try:
            parse_path_command(command.arg, keyword, pedantic=pedantic, is_rcpt=rcpt)
        except CommandError as exc:
            reply = exc.reply
            assert 400 <= reply.code < 600 and reply.enhanced[:1] == str(reply.code)[0], reply
    figures("fuzz", target="smtp commands", executions=run_counted(fuzz), crashes=0)


@pytest.mark.timeout(120)
@pytest.mark.skipif(_c_DataReader is None, reason="compiled twin _c_smtpline not built")
def test_data_reader_twins_agree(figures):
    pieces = st.sampled_from([b"\r\n", b".", b"\r", b"\n", b"..", b"\r\n.\r\n", b"x", b"Subject: a\r\n",
                              b"\r\n\r\n", b"\xff", b" "])

    @FUZZ
    @given(parts=st.lists(pieces, max_size=60), cuts=st.lists(st.integers(0, 400), max_size=8),
           lone=st.sampled_from(["reject", "accept", "fix"]), max_size=st.integers(0, 64))
    def fuzz(counter, parts, cuts, lone, max_size):
        counter[0] += 1
        data = b"".join(parts)
        bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
        chunks = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        results = []
        for reader_class in (_py_DataReader, _c_DataReader):
            try:
                reader = reader_class(max_size=max_size, lone_lf=lone, lone_cr=lone)
            except ValueError:
                return  # an option value one twin does not know: both refuse it (unit-tested)
            ends = [reader.feed(chunk) for chunk in chunks]
            results.append((ends, reader.take(), reader.size, reader.oversized, reader.saw_lone_lf,
                            reader.saw_lone_cr, reader.header_end, reader.done))
        assert results[0] == results[1]
    figures("fuzz", target="DATA reader twins", executions=run_counted(fuzz), crashes=0)


@pytest.mark.timeout(120)
def test_config_parser(figures):
    tokens = st.sampled_from(["ESMTP_Listener", "{", "}", "[", "]", "(", ")", "=", "\"", "'", "#",
                              "/*", "*/", "\n", " ", "include", "Listen", "\"127.0.0.1:25\"",
                              "a", "0", "\\", "Domain", "x.test", "\x00", "é"])

    @FUZZ
    @given(parts=st.lists(tokens, max_size=50))
    def fuzz(counter, parts):
        counter[0] += 1
        try:
            parse_text("".join(parts), "fuzz.conf")
        except ConfigError as exc:
            assert str(exc)
    figures("fuzz", target="config parser", executions=run_counted(fuzz), crashes=0)


def nested_mime(depth: int, leaf: bytes) -> bytes:
    body = leaf
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n--" + boundary
                + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n")
    return b"Subject: nest\r\n" + body


@pytest.mark.timeout(120)
def test_mime_parser(figures):
    pieces = st.sampled_from([b"Content-Type: multipart/mixed; boundary=x\r\n", b"--x\r\n", b"--x--\r\n",
                              b"\r\n", b"\n", b"Content-Transfer-Encoding: base64\r\n", b"QUJD\r\n",
                              b"=\r\n", b"=4", b"Content-Type: text/plain; charset=\"utf-8\"\r\n",
                              b"\xff\xfe", b" folded\r\n", b"Subject: s\r\n", b"--", b"boundary=\"",
                              b"Content-Type: message/rfc822\r\n"])

    @FUZZ
    @given(parts=st.lists(pieces, max_size=60), depth=st.integers(0, 120))
    @example(parts=[], depth=1000)
    def fuzz(counter, parts, depth):
        counter[0] += 1
        raw = nested_mime(depth, b"".join(parts)) if depth else b"".join(parts)
        part = Part.from_bytes(raw)
        for sub in part.walk():
            assert isinstance(sub.content_type, str) and isinstance(sub.cte, str)
            assert sub.charset is None or isinstance(sub.charset, str)
            assert sub.filename is None or isinstance(sub.filename, str)
            assert isinstance(sub.body(), bytes)
        assert isinstance(part.all_defects(), list)
        assert Part.from_bytes(raw).render() == raw  # untouched: verbatim (after a walk: see below)
    figures("fuzz", target="MIME parser", executions=run_counted(fuzz), crashes=0)


def test_mime_render_after_walk_is_byte_exact():
    """Found by test_mime_parser (hypothesis): reading a part must not change its bytes."""
    raw = b"Content-Type: multipart/mixed; boundary=x\r\n--x\r\n"
    part = Part.from_bytes(raw)
    list(part.walk())
    assert part.render() == raw


@pytest.mark.timeout(120)
def test_sieve_parser(figures):
    tokens = st.sampled_from(["require", "[", "]", "\"fileinto\"", ";", "if", "header", ":is",
                              "\"Subject\"", "\"x\"", "{", "}", "keep", "discard", "stop", "text:\r\n",
                              "\r\n.\r\n", "/*", "*/", "#", "\n", "anyof", "(", ")", ",", "1K",
                              "elsif", "else", "\\", "${", "}", "\x00"])

    @FUZZ
    @given(parts=st.lists(tokens, max_size=50))
    def fuzz(counter, parts):
        counter[0] += 1
        try:
            parse_script(" ".join(parts), "fuzz.siv")
        except SieveError:
            pass
    figures("fuzz", target="Sieve parser", executions=run_counted(fuzz), crashes=0)
