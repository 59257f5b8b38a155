"""Streaming PCRE: chunked results equal whole-subject results, limits bound hostile
patterns on a 50 MB body, the compile cache honours size and TTL."""

from __future__ import annotations

import os
import time

import pcre2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core import pcre_stream
from ecelerity.core.message import Message
from ecelerity.core.pcre_stream import (
    PatternCache,
    PcreLimitError,
    body_match,
    body_replace,
    compile_pattern,
    raw_match,
    stream_replace,
    stream_search,
    text_match,
    text_replace,
)

CORPUS = os.path.join(os.path.dirname(__file__), "corpus")
PATTERNS = [rb"ab+a", rb"b\r\n", rb"(?<=a)b{2}", rb"\bba", rb"a.{0,5}b", rb"^ab"]


@st.composite
def subject_and_chunks(draw):
    subject = draw(st.lists(st.sampled_from([b"a", b"b", b" ", b"\r\n", b"ab", b"bba"]),
                            max_size=300).map(b"".join))
    size = draw(st.integers(1, 40))
    return subject, [subject[at:at + size] for at in range(0, len(subject), size)]


@settings(max_examples=300, deadline=None)
@given(sample=subject_and_chunks(), pattern=st.sampled_from(PATTERNS))
def test_chunked_search_and_replace_equal_the_whole_subject(sample, pattern):
    subject, chunks = sample
    compiled = compile_pattern(pattern)
    old_margin, old_context = pcre_stream.LOOKAHEAD_MARGIN, pcre_stream.CONTEXT
    pcre_stream.LOOKAHEAD_MARGIN, pcre_stream.CONTEXT = 8, 8  # small windows, many slides
    try:
        found = stream_search(chunks, compiled, overlap=16)
        pieces, count = stream_replace(chunks, compiled, b"<\\g<0>>", overlap=16)
    finally:
        pcre_stream.LOOKAHEAD_MARGIN, pcre_stream.CONTEXT = old_margin, old_context
    whole = compiled.search(subject)
    assert (found.start, found.end) == whole.span() if whole else found is None
    expected, expected_count = compiled.subn(b"<\\g<0>>", subject)
    assert (b"".join(pieces), count) == (expected, expected_count)


def test_replace_count_stops_early_and_keeps_the_rest():
    chunks = [b"aXbXc", b"XdX", b"e"]
    pieces, count = stream_replace(chunks, compile_pattern(b"X"), b"-", count=2)
    assert (b"".join(pieces), count) == (b"a-b-cXdXe", 2)


def test_message_level_matches_and_replaces():
    with open(os.path.join(CORPUS, "nested_rfc822.eml"), "rb") as handle:
        message = Message(handle.read())
    assert raw_match(message, rb"^Subject: (.*)\r$", pcre2.M).groups == (b"Fwd: lunch?",)
    assert body_match(message, b"Caf=E9") is not None
    assert body_match(message, b"^Subject: Fwd") is None
    assert text_match(message, "Café at (\\w+)").groups == ("noon",)
    assert text_replace(message, "noon", "one") == 2
    assert "Café at one?" in Message(message.render()).text()
    assert body_replace(message, rb"Forwarding", b"Sending") == 1
    assert b"Sending the message below." in message.render()


def test_catastrophic_pattern_on_50_mb_body_is_bounded():
    message = Message(b"Subject: big\r\n\r\n" + b"a" * (50 * 1024 * 1024))
    for pattern in (rb"(a|aa)+$", rb"(a*)*b", rb"(?:a+a+)+b"):
        started = time.perf_counter()
        try:
            result = body_match(message, pattern)
        except PcreLimitError as exc:
            assert "limit" in str(exc)
        else:
            assert result is None
        assert time.perf_counter() - started < 3


def test_time_budget_is_enforced():
    chunks = [b"a" * 65536] * 200
    with pytest.raises(PcreLimitError, match="time budget"):
        stream_search(chunks, compile_pattern(rb"a{3}(?=b)"), budget_seconds=0.01)


def test_cache_size_ttl_and_pattern_errors():
    cache = PatternCache(size=2, ttl=0.05)
    first = cache.compile(b"a+")
    assert cache.compile(b"a+") is first
    cache.compile(b"b+")
    cache.compile(b"c+")
    assert len(cache) == 2 and cache.compile(b"a+") is not first
    again = cache.compile(b"c+")
    time.sleep(0.06)
    assert cache.compile(b"c+") is not again
    with pytest.raises(ValueError, match="invalid pattern"):
        cache.compile(b"(unclosed")
    with pytest.raises(ValueError, match="LIMIT"):
        cache.compile(b"(*LIMIT_MATCH=999999999)a")


def test_default_cache_takes_size_and_ttl_from_the_config():
    from ecelerity.config.loader import load_config_text
    cache = pcre_stream.default_cache
    try:
        pcre_stream.configure(load_config_text("pcre_cache_size = 3\npcre_cache_ttl = 7\n"))
        assert (cache.size, cache.ttl) == (3, 7.0)
        for index in range(5):
            pcre_stream.compile_pattern(f"configured{index}")
        assert len(cache) == 3
        pcre_stream.configure(load_config_text("pcre_cache_size = 1\n"))  # a reload shrinks it
        assert len(cache) == 1 and cache.ttl == 300.0
    finally:
        pcre_stream.configure(load_config_text(""))
    assert (cache.size, cache.ttl) == (100, 300.0)
