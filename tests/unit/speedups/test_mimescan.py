"""Reference behaviour of mimescan (whichever twin is active): header splitting,
unfolding and boundary scanning on hand-made blocks, agreeing with the email package."""

from __future__ import annotations

import email
import email.policy

from ecelerity._speedups import mimescan
from ecelerity._speedups.mimescan import find_boundaries, split_headers, unfold


def test_split_headers_offsets_and_continuations():
    data = b"A: 1\r\nB: 2\r\n  more\r\n\r\nbody"
    fields, body_start, separator = split_headers(data)
    assert fields == [(0, 1, 6), (6, 7, 20)] and separator
    assert data[body_start:] == b"body"


def test_split_headers_stops_at_a_non_header_line_like_email():
    data = b"A: 1\nnot a header\nrest\n"
    fields, body_start, separator = split_headers(data)
    assert fields == [(0, 1, 5)] and not separator
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert data[body_start:] == parsed.get_payload().encode()


def test_split_headers_window_and_edge_cases():
    data = b"XX: a\r\n\r\nA: 1\r\n\r\n"
    assert split_headers(data, 9) == ([(9, 10, 15)], 17, True)
    assert split_headers(b"") == ([], 0, False)
    assert split_headers(b" leading: continuation\r\n") == ([], 0, False)
    assert split_headers(b"A: unterminated") == ([(0, 1, 15)], 15, False)


def test_unfold():
    assert unfold(b" a\r\n b\n\tc\r d \r\n") == b"a b\tc d"
    assert unfold(b"keep\r\nbreak") == b"keep\r\nbreak"


def test_find_boundaries():
    body = b"pre\r\n--b\r\none\r\n--b  \r\n--bx\r\ntwo\r\n--b--\r\nepilogue\r\n--b\r\n"
    marks = find_boundaries(body, b"b")
    assert [(body[s:e], close) for s, e, close in marks] == [
        (b"--b\r\n", False), (b"--b  \r\n", False), (b"--b--\r\n", True)]
    assert find_boundaries(b"x--b\r\n", b"b") == []
    assert find_boundaries(b"--b--", b"b") == [(0, 5, True)]
    assert find_boundaries(b"--b", b"b", 0, 2) == []


def test_implementation_is_named():
    assert mimescan.IMPLEMENTATION in ("python", "cython")
