"""Streaming PCRE over a message: raw_match, body_match, text_match and _replace forms.

The subject is fed in chunks (CHUNK_SIZE) through a sliding window that keeps
``overlap`` bytes of the previous chunk, so a 50 MB body held in an mmap is never
copied whole. A match is accepted once it ends at least ``LOOKAHEAD_MARGIN`` before
the window end (more data cannot change it) or at the end of the subject; a match
longer than about ``overlap`` may be cut at a window edge (documented limit).

Every pattern is compiled through a PatternCache (core/pcre_cache.py, re-exported
here: ``pcre_cache_size`` entries, ``pcre_cache_ttl`` seconds) with JIT and a PCRE
match/heap limit prefixed, and each
whole operation has a time budget: a catastrophic pattern raises PcreLimitError
within it, and the matcher yields to the hub every YIELD_AFTER seconds meanwhile,
so other sessions are served while it runs (the daemon test proves it through a
Lua policy on a 50 MB message). Called by the Sieve and Lua bindings; never
does I/O beyond reading the message buffer.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import gevent
import pcre2

from ecelerity.core.encodings import IncrementalTransferDecoder, charset_decoder
from ecelerity.core.pcre_cache import (HEAP_LIMIT_KIB, MATCH_LIMIT, PatternCache, compile_pattern,
                                       configure, default_cache)

__all__ = [
    "PatternCache", "PcreLimitError", "StreamMatch", "body_match", "body_replace",
    "compile_pattern", "configure", "default_cache", "raw_match", "raw_replace", "stream_replace",
    "stream_search", "text_match", "text_replace", "MATCH_LIMIT", "HEAP_LIMIT_KIB",
]

CHUNK_SIZE = 64 * 1024
DEFAULT_OVERLAP = 16 * 1024
LOOKAHEAD_MARGIN = 1024
CONTEXT = 256  # bytes kept before a resumed search (lookbehind, \b, no false ^)
DEFAULT_BUDGET_SECONDS = 2.0
YIELD_AFTER = 0.01  # seconds of matching before the hub gets a turn (see _Budget)
_LIMIT_ERRORS = {-46: "JIT stack limit reached", -47: "match limit exceeded", -52: "depth limit exceeded",
                 -63: "heap limit exceeded"}


class PcreLimitError(RuntimeError):
    """A pattern hit the match/heap limit or the operation's time budget."""


@dataclass(frozen=True)
class StreamMatch:
    start: int  # absolute offset in the subject stream
    end: int
    text: bytes | str
    groups: tuple


class _Budget:
    """The time budget of one operation; also lets the hub run between window searches.

    One pcre2 call is bounded by the match/heap limits (a few ms on one window), but
    a whole 50 MB subject takes many calls: after YIELD_AFTER seconds of matching the
    calling greenlet yields, so other sessions are served while a slow pattern crawls
    through a big body. It sleeps 0.5 ms rather than 0: gevent.sleep(0) only runs
    ready greenlets, timers and I/O starved (measured: 690 ms gaps). Measured with
    a{1,60}\\d over 50 MB: the hub was blocked 2.0 s (the whole budget) without
    yielding, at most ~25 ms with it.
    """

    def __init__(self, seconds: float) -> None:
        now = time.monotonic()
        self.deadline = now + seconds
        self.seconds = seconds
        self._yield_at = now + YIELD_AFTER

    def run(self, call, *args):
        try:
            result = call(*args)
        except pcre2.LibraryError as exc:
            reason = _LIMIT_ERRORS.get(getattr(exc, "code", 0))
            if reason is None:
                raise
            raise PcreLimitError(f"PCRE {reason}") from None
        now = time.monotonic()
        if now > self.deadline:
            raise PcreLimitError(f"PCRE time budget of {self.seconds:g}s exceeded")
        if now >= self._yield_at:
            gevent.sleep(0.0005)
            self._yield_at = time.monotonic() + YIELD_AFTER
        return result


def _windows(chunks: Iterable, pattern: pcre2.Pattern, overlap: int, budget: _Budget,
             on_match) -> list:
    """Drive the sliding window over chunks, calling on_match(window, base, event):

    - event a Match, once it is safe, in subject order: return the offset to resume
      the search from, or None to stop (the chunks not yet read are returned);
    - event an int k: the window slides, window[:k] leaves it for good;
    - event None: the subject ended (window is the last one).
    base is the absolute offset of window[0]."""
    carry = None
    base = resume = 0
    iterator = iter(chunks)
    pending = next(iterator, None)
    if pending is None:
        pending = chunks[:0] if isinstance(chunks, (bytes, str)) else b""
    while True:
        following = next(iterator, None)
        final = following is None
        window = pending if carry is None else carry + pending
        size = len(window)
        while True:
            if resume > size:
                cut = resume
                break
            match = budget.run(pattern.search, window, resume)
            if match is None:
                cut = max(resume, size - overlap)
                break
            safe = final or match.end() <= size - LOOKAHEAD_MARGIN \
                or size - match.start() > 2 * overlap
            if not safe:
                cut = match.start()
                break
            resume = on_match(window, base, match)
            if resume is None:
                return ([] if final else [following]) + list(iterator)
        if final:
            on_match(window, base, None)
            return []
        keep_from = min(size, max(0, cut - CONTEXT))
        on_match(window, base, keep_from)
        carry = window[keep_from:]
        base += keep_from
        resume = cut - keep_from
        pending = following


def stream_search(chunks: Iterable, pattern: pcre2.Pattern, *, overlap: int = DEFAULT_OVERLAP,
                  budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> StreamMatch | None:
    """The first match of pattern over the concatenated chunks, or None."""
    found: list[StreamMatch] = []

    def on_match(window, base, event):
        if event is None or isinstance(event, int):
            return 0
        found.append(StreamMatch(base + event.start(), base + event.end(), event.group(0),
                                 event.groups()))
        return None

    _windows(chunks, pattern, overlap, _Budget(budget_seconds), on_match)
    return found[0] if found else None


def stream_replace(chunks: Iterable, pattern: pcre2.Pattern, replacement, *,
                   count: int = 0, overlap: int = DEFAULT_OVERLAP,
                   budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> tuple[list, int]:
    """(output pieces, number of replacements): every match replaced by
    ``match.expand(replacement)`` (``\\1``, ``\\g<name>``), at most count if count > 0."""
    output: list = []
    state = {"emitted": 0, "done": 0}  # emitted: window offset already written out

    def on_match(window, base, event):
        emitted = state["emitted"]
        if event is None:  # the end of the subject: flush the rest
            output.append(window[emitted:])
            return 0
        if isinstance(event, int):  # the window slides: flush what leaves it
            if emitted < event:
                output.append(window[emitted:event])
            state["emitted"] = max(0, emitted - event)
            return 0
        output.append(window[emitted:event.start()])
        output.append(event.expand(replacement))
        state["emitted"] = event.end()
        state["done"] += 1
        if count and state["done"] >= count:
            output.append(window[event.end():])
            return None
        return event.end() if event.end() > event.start() else event.end() + 1

    output.extend(_windows(chunks, pattern, overlap, _Budget(budget_seconds), on_match))
    return output, state["done"]


# -- message-level forms ------------------------------------------------------------------
def _slices(source, start: int, end: int) -> Iterator[bytes]:
    for at in range(start, end, CHUNK_SIZE):
        yield bytes(source[at:min(at + CHUNK_SIZE, end)])


def _raw_chunks(target) -> Iterator[bytes]:
    if getattr(target, "modified", False) or (hasattr(target, "_is_dirty") and target._is_dirty()):
        rendered = target.render()
        return _slices(rendered, 0, len(rendered))
    return _slices(target.source, target.start, target.end)


def _body_chunks(target) -> Iterator[bytes]:
    if getattr(target, "modified", False) or (hasattr(target, "_is_dirty") and target._is_dirty()):
        body = target.raw_body()
        return _slices(body, 0, len(body))
    end = target.end if hasattr(target, "end") else len(target.source)
    return _slices(target.source, target.body_start, end)


def _text_leaves(target) -> list:
    part = target.mime() if hasattr(target, "mime") else target
    leaves = [p for p in part.walk() if not p.children and p.maintype == "text"]
    return leaves or ([part] if not part.children else [])


def _text_chunks(part) -> Iterator[str]:
    transfer = IncrementalTransferDecoder(part.cte)
    charset = charset_decoder(part.charset)
    for chunk in _body_chunks(part):
        yield charset.decode(transfer.feed(chunk))
    yield charset.decode(transfer.finish(), final=True)


def _as_bytes(pattern: bytes | str) -> bytes:
    return pattern.encode("utf-8") if isinstance(pattern, str) else pattern


def raw_match(target, pattern: bytes | str, flags: int = 0, **limits) -> StreamMatch | None:
    """Search the whole message (or part) as it would be rendered, headers included."""
    return stream_search(_raw_chunks(target), compile_pattern(_as_bytes(pattern), flags), **limits)


def body_match(target, pattern: bytes | str, flags: int = 0, **limits) -> StreamMatch | None:
    """Search the body (after the header block), still transfer-encoded."""
    return stream_search(_body_chunks(target), compile_pattern(_as_bytes(pattern), flags), **limits)


def text_match(target, pattern: str, flags: int = 0, **limits) -> StreamMatch | None:
    """Search the transfer-decoded Unicode text of each text part, in tree order."""
    compiled = compile_pattern(pattern if isinstance(pattern, str) else pattern.decode(), flags)
    for part in _text_leaves(target):
        found = stream_search(_text_chunks(part), compiled, **limits)
        if found is not None:
            return found
    return None


def raw_replace(message, pattern: bytes | str, replacement: bytes, flags: int = 0,
                **limits) -> int:
    """Replace in the whole message; the message is re-parsed from the result."""
    pieces, done = stream_replace(_raw_chunks(message), compile_pattern(_as_bytes(pattern), flags),
                                  replacement, **limits)
    if done:
        message.replace_raw(b"".join(pieces))
    return done


def body_replace(target, pattern: bytes | str, replacement: bytes, flags: int = 0,
                 **limits) -> int:
    pieces, done = stream_replace(_body_chunks(target), compile_pattern(_as_bytes(pattern), flags),
                                  replacement, **limits)
    if done:
        target.set_raw_body(b"".join(pieces))
    return done


def text_replace(target, pattern: str, replacement: str, flags: int = 0, **limits) -> int:
    """Replace in the decoded text of each text part; changed parts are re-encoded UTF-8."""
    compiled = compile_pattern(pattern, flags)
    total = 0
    for part in _text_leaves(target):
        pieces, done = stream_replace(_text_chunks(part), compiled, replacement, **limits)
        if done:
            part.set_text("".join(pieces))
            total += done
    return total
