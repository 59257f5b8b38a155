"""Compiling PCRE patterns safely, once: the PatternCache behind core/pcre_stream.py.

Who calls it: core/pcre_stream.py (every match and replace compiles through
``compile_pattern``; all of this is re-exported there), the Lua and Sieve bindings
through it, smtp/server.py (``configure`` at start and on each reload:
``pcre_cache_size`` / ``pcre_cache_ttl``) and the console's cache statistics
(``default_cache``). Every pattern gets JIT and a PCRE match/heap limit prefixed; a
pattern may not set its own ``(*LIMIT_...)``. Never matches anything and never does
I/O; an invalid pattern is a ValueError carrying PCRE's message.
"""
from __future__ import annotations

import time
from collections import OrderedDict

import pcre2

MATCH_LIMIT = 1_000_000
HEAP_LIMIT_KIB = 20_000


class PatternCache:
    """LRU cache of compiled patterns with a time-to-live (pcre_cache_size/_ttl)."""

    def __init__(self, size: int = 100, ttl: float = 300.0) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[tuple, tuple[pcre2.Pattern, float]] = OrderedDict()

    def compile(self, pattern: bytes | str, flags: int = 0) -> pcre2.Pattern:
        """The compiled pattern; ValueError (with PCRE's message) if it is invalid."""
        key = (type(pattern), pattern, flags)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[1] <= self.ttl:
            self._entries.move_to_end(key)
            return entry[0]
        compiled = _compile_limited(pattern, flags)
        if self.size > 0:
            self._entries[key] = (compiled, now)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return compiled

    def __len__(self) -> int:
        return len(self._entries)

    def resize(self, size: int, ttl: float) -> None:
        self.size, self.ttl = max(0, size), max(0.0, ttl)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def _compile_limited(pattern: bytes | str, flags: int) -> pcre2.Pattern:
    marker = "(*LIMIT_" if isinstance(pattern, str) else b"(*LIMIT_"
    if marker in pattern:
        raise ValueError("patterns may not set their own (*LIMIT_...) values")
    prefix = f"(*LIMIT_MATCH={MATCH_LIMIT})(*LIMIT_HEAP={HEAP_LIMIT_KIB})"
    full = (prefix if isinstance(pattern, str) else prefix.encode("ascii")) + pattern
    try:
        return pcre2.compile(full, flags, jit=True)
    except pcre2.LibraryError as exc:
        raise ValueError(f"invalid pattern {pattern!r}: {exc}") from None


default_cache = PatternCache()


def configure(cfg) -> None:
    """Size the shared cache from a Config's ``pcre_cache_size`` / ``pcre_cache_ttl``.

    Called by the daemon at start and on every reload (smtp/server.py); entries over
    the new size are dropped, oldest first, and the new TTL applies to every entry.
    """
    size, ttl = cfg.get("pcre_cache_size"), cfg.get("pcre_cache_ttl")
    default_cache.resize(int(size if size is not None else 100), float(ttl if ttl is not None else 300))


def compile_pattern(pattern: bytes | str, flags: int = 0) -> pcre2.Pattern:
    return default_cache.compile(pattern, flags)
