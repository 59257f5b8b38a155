"""Behaviour of ecelerity/_speedups/smtpline.py, on whichever twin is active.

CI runs this file twice (compiled, and ECELERITY_PURE_PYTHON=1), so both twins meet
every explicit case here: pipelining, long lines, bare LF, SMTP smuggling variants,
header/body boundary, size limits, and every split point of tricky samples.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups.smtpline import DataReader, LineSplitter, LineTooLong

TERMINATOR = b"\r\n.\r\n"


def drain(splitter: LineSplitter) -> list:
    """Every event next_line() yields now: (line, bare_lf) or ("too long", length)."""
    events = []
    while True:
        try:
            line = splitter.next_line()
        except LineTooLong as exc:
            events.append(("too long", exc.length))
            continue
        if line is None:
            return events
        events.append((line, splitter.bare_lf))


def read(chunks: list[bytes], **options) -> tuple[bytes, int, DataReader]:
    """Feed chunks; return (stored message, end offset in the whole stream or -1, reader)."""
    reader = DataReader(**options)
    stored = []
    consumed = 0
    end = -1
    for chunk in chunks:
        offset = reader.feed(chunk)
        stored.append(reader.take())
        if offset >= 0:
            end = consumed + offset
            break
        consumed += len(chunk)
    return b"".join(stored), end, reader


def splits(data: bytes, pieces: int):
    """Every way to cut data into `pieces` chunks (empty chunks included)."""
    for cuts in itertools.combinations_with_replacement(range(len(data) + 1), pieces - 1):
        bounds = (0, *cuts, len(data))
        yield [data[a:b] for a, b in itertools.pairwise(bounds)]


# ---------------------------------------------------------------- LineSplitter


def test_pipelined_commands_come_out_in_order():
    splitter = LineSplitter()
    splitter.feed(
        b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
    )
    assert drain(splitter) == [
        (b"EHLO client.example", False),
        (b"MAIL FROM:<a@b.example>", False),
        (b"RCPT TO:<c@d.example>", False),
        (b"DATA", False),
    ]
    assert splitter.pending() == 0


def test_partial_line_waits_for_its_lf():
    splitter = LineSplitter()
    splitter.feed(b"EHL")
    assert splitter.next_line() is None
    splitter.feed(b"O x\r")
    assert splitter.next_line() is None
    splitter.feed(b"\nNO")
    assert splitter.next_line() == b"EHLO x"
    assert splitter.next_line() is None
    assert splitter.pending() == 2


def test_bare_lf_is_flagged_per_line():
    splitter = LineSplitter()
    splitter.feed(b"HELO a\nNOOP\r\n\r\n\n")
    assert drain(splitter) == [(b"HELO a", True), (b"NOOP", False), (b"", False), (b"", True)]


def test_bare_cr_inside_a_line_is_kept():
    splitter = LineSplitter()
    splitter.feed(b"NO\rOP\r\n")
    assert drain(splitter) == [(b"NO\rOP", False)]


def test_complete_long_line_raises_then_next_command_is_served():
    splitter = LineSplitter(max_line=10)
    splitter.feed(b"X" * 11 + b"\r\nNOOP\r\n")
    assert drain(splitter) == [("too long", 11), (b"NOOP", False)]


def test_unterminated_long_line_is_discarded_up_to_its_lf():
    splitter = LineSplitter(max_line=10)
    splitter.feed(b"X" * 11)
    with pytest.raises(LineTooLong) as caught:
        splitter.next_line()
    assert caught.value.length == 11 and caught.value.limit == 10
    assert isinstance(caught.value, ValueError)
    assert splitter.pending() == 0
    splitter.feed(b"Y" * 5000)  # still the same line: dropped, not buffered
    assert splitter.next_line() is None
    assert splitter.pending() == 0
    splitter.feed(b"ZZ\r\nQUIT\r\n")
    assert drain(splitter) == [(b"QUIT", False)]


def test_line_of_exactly_max_line_is_accepted_even_with_cr_split_from_lf():
    splitter = LineSplitter(max_line=4)
    splitter.feed(b"ABCD\r")
    assert splitter.next_line() is None
    splitter.feed(b"\n")
    assert splitter.next_line() == b"ABCD"


def test_take_buffer_returns_everything_pipelined_after_starttls():
    splitter = LineSplitter()
    splitter.feed(b"STARTTLS\r\nEHLO evil\r\nMAIL FROM:<x@y>\r\n")
    assert splitter.next_line() == b"STARTTLS"
    assert splitter.take_buffer() == b"EHLO evil\r\nMAIL FROM:<x@y>\r\n"
    assert splitter.pending() == 0
    assert splitter.next_line() is None
    splitter.feed(b"EHLO good\r\n")
    assert splitter.next_line() == b"EHLO good"


def test_max_line_must_be_positive():
    with pytest.raises(ValueError):
        LineSplitter(max_line=0)


_command_line = st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"n"))


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(_command_line, st.booleans()), max_size=12),
    max_line=st.integers(1, 14),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_splitter_returns_each_line_whatever_the_chunking(lines, max_line, cuts):
    stream = b"".join(text + (b"\n" if bare else b"\r\n") for text, bare in lines)
    expected = []
    for text, bare in lines:
        if text.endswith(b"\r") and bare:
            text, bare = text[:-1], False  # "...\r" + "\n" is a CRLF
        expected.append((text, bare) if len(text) <= max_line else "too long")
    splitter = LineSplitter(max_line=max_line)
    got = []
    bounds = sorted({0, len(stream), *[c for c in cuts if c < len(stream)]})
    for a, b in itertools.pairwise(bounds):
        splitter.feed(stream[a:b])
        got += [e if e[0] != "too long" else "too long" for e in drain(splitter)]
    assert got == expected
    assert splitter.pending() == 0


# ---------------------------------------------------------------- DataReader: basics


def test_simple_message_and_pipelined_command_after_it():
    wire = b"Subject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n"
    stored, end, reader = read([wire])
    assert stored == b"Subject: hi\r\n\r\nHello\r\n"
    assert wire[end:] == b"QUIT\r\n"
    assert reader.done and reader.size == len(stored) and reader.header_end == 15
    assert not (reader.saw_lone_lf or reader.saw_lone_cr or reader.oversized or reader.long_line)


def test_dot_unstuffing_only_at_line_starts():
    wire = b"..lead\r\n...\r\nmid.dle\r\n .x\r\n.\r\n"
    stored, end, _ = read([wire + b"QUIT\r\n"])
    assert stored == b".lead\r\n..\r\nmid.dle\r\n .x\r\n"
    assert end == len(wire) == 30


def test_data_starting_with_the_terminator_is_an_empty_message():
    stored, end, reader = read([b".\r\nQUIT\r\n"])
    assert (stored, end, reader.size, reader.header_end, reader.done) == (b"", 3, 0, 0, True)


def test_message_of_only_headers_has_header_end_at_its_end():
    stored, _, reader = read([b"Subject: x\r\nFrom: y@z\r\n.\r\n"])
    assert stored == b"Subject: x\r\nFrom: y@z\r\n"
    assert reader.header_end == reader.size == 23


def test_header_end_is_the_first_blank_line():
    stored, _, reader = read([b"A: b\r\n\r\nbody\r\n\r\nmore\r\n.\r\n"])
    assert reader.header_end == 8 and stored[:8] == b"A: b\r\n\r\n"


def test_header_end_when_message_starts_with_a_blank_line():
    _, _, reader = read([b"\r\nbody only\r\n.\r\n"])
    assert reader.header_end == 2


def test_header_end_is_unknown_until_seen():
    reader = DataReader()
    assert reader.feed(b"A: b\r\nC: d\r\n") == -1
    assert reader.header_end == -1
    assert reader.feed(b"\r\nbody\r\n") == -1
    assert reader.header_end == 14


def test_feed_after_the_end_hands_everything_back():
    reader = DataReader()
    assert reader.feed(b".\r\n") == 3
    assert reader.feed(b"NOOP\r\n") == 0


@pytest.mark.parametrize(
    "bad", [{"lone_lf": "fix"}, {"lone_cr": ""}, {"max_size": -1}, {"max_line": -1}]
)
def test_bad_options_are_refused(bad):
    with pytest.raises(ValueError):
        DataReader(**bad)


# ---------------------------------------------------------------- size and line limits


def test_oversized_keeps_reading_to_the_end_but_stores_only_max_size():
    body = b"".join(b"line %04d of the message\r\n" % i for i in range(40))
    stored, end, reader = read([body + b".\r\nQUIT\r\n"], max_size=100)
    assert reader.done and end == len(body) + 3
    assert reader.size == len(body) and reader.oversized
    assert stored == body[:100]


def test_memory_stays_bounded_for_a_huge_oversized_message():
    line = b"x" * 78 + b"\r\n"
    chunk = line * 800  # 64,000 bytes
    reader = DataReader(max_size=1000)
    kept = 0
    for _ in range(40):  # 2.5 MB
        assert reader.feed(chunk) == -1
        kept += len(reader.take())
    assert reader.feed(b".\r\n") == 3
    kept += len(reader.take())
    assert kept == 1000 and reader.size == 40 * len(chunk) and reader.oversized


def test_message_of_exactly_max_size_is_not_oversized():
    stored, _, reader = read([b"12345678\r\n.\r\n"], max_size=10)
    assert stored == b"12345678\r\n" and reader.size == 10 and not reader.oversized


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"12345\r\n.\r\n", False),
        (b"123456\r\n.\r\n", True),
        (b"ab\r\n..2345\r\n.\r\n", False),  # the stuffed dot is not stored, not counted
        (b"ab\r\n123\n56\r\n.\r\n", True),  # a bare LF kept as is does not end a line
        (b"123456", True),  # seen before the line ends
    ],
)
def test_long_line_flag(wire, expected):
    for chunks in splits(wire, 2):
        _, _, reader = read(chunks, max_line=5)
        assert reader.long_line is expected, chunks


@pytest.mark.parametrize("limit", [1, 4, 9])
def test_long_line_anywhere_among_many_lines_in_one_chunk(limit):
    for before in range(limit + 2):
        for length in (limit - 1, limit, limit + 1, limit + 2, 2 * limit, 2 * limit + 1):
            wire = b"a\r\n" + b"x" * before + b"\r\n" + b"y" * length + b"\r\nz\r\n.\r\n"
            _, _, reader = read([wire], max_line=limit)
            assert reader.long_line is (length > limit or before > limit), (before, length)


# ---------------------------------------------------------------- smuggling

SMUGGLING = [
    # (wire, options, stored message, saw_lone_lf, saw_lone_cr); every wire ends DATA
    # only at its final <CRLF>.<CRLF> (offset = len(wire)).
    (b"A\n.\nB\r\n.\r\n", {}, b"A\n.\nB\r\n", True, False),
    (b"A\n.\nB\r\n.\r\n", {"lone_lf": "normalize"}, b"A\r\n\r\nB\r\n", True, False),
    (b"A\n.\nB\r\n.\r\n", {"lone_lf": "keep"}, b"A\n.\nB\r\n", True, False),
    (b"A\r.\rB\r\n.\r\n", {}, b"A\r.\rB\r\n", False, True),
    (b"A\r.\rB\r\n.\r\n", {"lone_cr": "normalize"}, b"A\r\n\r\nB\r\n", False, True),
    (b"A\n.\r\nB\r\n.\r\n", {}, b"A\n.\r\nB\r\n", True, False),
    (b"A\n.\r\nB\r\n.\r\n", {"lone_lf": "normalize"}, b"A\r\n\r\nB\r\n", True, False),
    (b"A\r\n.\nB\r\n.\r\n", {}, b"A\r\n\nB\r\n", True, False),
    (b"A\r\n.\nB\r\n.\r\n", {"lone_lf": "normalize"}, b"A\r\n\r\nB\r\n", True, False),
    (b"A\r.\r\nB\r\n.\r\n", {}, b"A\r.\r\nB\r\n", False, True),
    (b"A\r.\r\nB\r\n.\r\n", {"lone_cr": "normalize"}, b"A\r\n\r\nB\r\n", False, True),
    (b"A\r\n.\rB\r\n.\r\n", {}, b"A\r\n\rB\r\n", False, True),
    (b"A\r\n.\rB\r\n.\r\n", {"lone_cr": "normalize"}, b"A\r\n\r\nB\r\n", False, True),
    (b"A\r\n.\r\rB\r\n.\r\n", {}, b"A\r\n\r\rB\r\n", False, True),
    (b"A\n\r\n.\r\n", {}, b"A\n\r\n", True, False),
    (b"A\r\r\n.\r\n", {}, b"A\r\r\n", False, True),
    (b"A\r\n..\r\n.\r\n", {}, b"A\r\n.\r\n", False, False),
]


@pytest.mark.parametrize(("wire", "options", "message", "lone_lf", "lone_cr"), SMUGGLING)
def test_only_crlf_dot_crlf_ends_data(wire, options, message, lone_lf, lone_cr):
    for pieces in (1, 2, 3):
        for chunks in splits(wire + b"MAIL FROM:<x@y>\r\n", pieces):
            stored, end, reader = read(chunks, **options)
            assert (stored, end) == (message, len(wire)), chunks
            assert (reader.saw_lone_lf, reader.saw_lone_cr) == (lone_lf, lone_cr)


@pytest.mark.parametrize(
    "fake_end", [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r"]
)
@pytest.mark.parametrize("policy", ["reject", "normalize", "keep"])
def test_fake_terminators_never_end_data(fake_end, policy):
    reader = DataReader(lone_lf=policy, lone_cr=policy)
    assert reader.feed(b"Subject: x\r\n\r\nbody" + fake_end + b"RCPT TO:<victim@x>\r\n") == -1
    assert not reader.done


# ---------------------------------------------------------------- every split point

TRICKY = b"Subj: x\r\n\r\n..a\r\n.\rb\n.\nc\r.\r\r\n.\r\r\n..\r\n.\r\nNEXT\r\n"
TRICKY_END = len(TRICKY) - len(b"NEXT\r\n")
TRICKY_STORED = {
    "reject": b"Subj: x\r\n\r\n.a\r\n\rb\n.\nc\r.\r\r\n\r\r\n.\r\n",
    "normalize": b"Subj: x\r\n\r\n.a\r\n\r\nb\r\n\r\nc\r\n\r\n\r\n\r\n\r\n.\r\n",
}


@pytest.mark.parametrize("policy", ["reject", "normalize"])
def test_every_two_and_three_chunk_split_of_a_tricky_sample(policy):
    expected = TRICKY_STORED[policy]
    for pieces in (2, 3):
        for chunks in splits(TRICKY, pieces):
            stored, end, reader = read(chunks, lone_lf=policy, lone_cr=policy, max_line=4)
            assert (stored, end) == (expected, TRICKY_END), chunks
            assert reader.header_end == 11 and reader.size == len(expected)
            assert reader.saw_lone_cr and reader.saw_lone_lf and reader.long_line


def test_byte_by_byte_feeding():
    stored, end, _ = read([TRICKY[i : i + 1] for i in range(len(TRICKY))])
    assert (stored, end) == (TRICKY_STORED["reject"], TRICKY_END)


def test_dot_split_from_its_crlf_across_feeds():
    reader = DataReader()
    assert reader.feed(b"body\r\n") == -1
    assert reader.feed(b".") == -1
    assert reader.feed(b"\r") == -1
    assert reader.take() == b"body\r\n"
    assert reader.feed(b"\nQUIT") == 1
    assert reader.take() == b"" and reader.done
