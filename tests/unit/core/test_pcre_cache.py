"""ecelerity/core/pcre_cache.py: patterns compile with the match/heap limits prefixed,
cannot set their own, and the one shared cache is what pcre_stream re-exports."""
from __future__ import annotations

import pytest

from ecelerity.core import pcre_cache, pcre_stream


def test_every_pattern_carries_the_limits_and_may_not_set_its_own():
    cache = pcre_cache.PatternCache(size=2, ttl=60)
    compiled = cache.compile("a+b")
    assert compiled.match("xaab", 1) is not None
    assert f"LIMIT_MATCH={pcre_cache.MATCH_LIMIT}" in str(compiled.pattern)
    with pytest.raises(ValueError, match="may not set their own"):
        cache.compile("(*LIMIT_HEAP=1)a")
    with pytest.raises(ValueError, match="invalid pattern"):
        cache.compile("(")


def test_the_cache_is_bounded_and_a_size_of_zero_keeps_nothing():
    cache = pcre_cache.PatternCache(size=2, ttl=60)
    first = cache.compile("one")
    cache.compile("two")
    assert cache.compile("one") is first       # cached
    cache.compile("three")                     # evicts "two", the least recently used
    assert len(cache) == 2
    cache.resize(0, 60)
    cache.compile("four")
    assert len(cache) == 0


def test_pcre_stream_uses_the_same_shared_cache():
    assert pcre_stream.default_cache is pcre_cache.default_cache
    assert pcre_stream.compile_pattern is pcre_cache.compile_pattern
