"""Comparators and match types: :is :contains :matches :regex and relational :count :value.

Called by tests_std.py and the extension tests through ``Matcher``. Comparators:
i;octet, i;ascii-casemap (default), i;ascii-numeric. :matches uses a segment scan
(leftmost placement of literal runs), never a backtracking regex, so it is
O(len(value) * len(pattern)) at worst. :regex uses PCRE2 with per-match budgets
(LIMIT_MATCH / LIMIT_DEPTH); a pattern that exhausts its budget is a runtime error,
never a hang.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from .errors import DEFAULT_LIMITS, SieveCompileError, SieveRuntimeError

try:
    import pcre2
except ImportError:  # pragma: no cover - pcre2 is a declared dependency
    pcre2 = None

COMPARATORS = ("i;octet", "i;ascii-casemap", "i;ascii-numeric")
RELATIONS = ("gt", "ge", "lt", "le", "eq", "ne")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
INFINITY = float("inf")


_LEADING_DIGITS = re.compile(r"[0-9]*").match


def fold(comparator: str, text: str) -> str:
    if comparator != "i;ascii-casemap":
        return text
    if text.isascii():  # a lower-case ASCII text is its own fold (str.lower always copies)
        return text if text.islower() else text.lower()
    return text.translate(_ASCII_LOWER)


def numeric_value(text: str) -> float:
    """i;ascii-numeric: the leading digits as a number; no leading digit = +infinity."""
    if text.isascii() and text.isdigit():
        return int(text)
    end = _LEADING_DIGITS(text).end()
    return int(text[:end]) if end else INFINITY


def ordering(comparator: str, left: str, right: str) -> int:
    if comparator == "i;ascii-numeric":
        a, b = numeric_value(left), numeric_value(right)
    elif comparator == "i;ascii-casemap":
        a, b = fold(comparator, left), fold(comparator, right)
    else:
        a, b = left.encode("utf-8", "surrogatepass"), right.encode("utf-8", "surrogatepass")
    return (a > b) - (a < b)


def relation_holds(relation: str, cmp: int) -> bool:
    return {"gt": cmp > 0, "ge": cmp >= 0, "lt": cmp < 0, "le": cmp <= 0,
            "eq": cmp == 0, "ne": cmp != 0}[relation]


# --- :matches --------------------------------------------------------------------

def parse_glob(pattern: str) -> list[object]:
    """Tokens: '*' (star), '?' (one char) and literal strings; backslash escapes a char."""
    out: list[object] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 2
            continue
        out.append(_STAR if ch == "*" else _ONE if ch == "?" else ch)
        i += 1
    return out


class _Wild:
    def __init__(self, name: str):
        self.name = name


_STAR, _ONE = _Wild("*"), _Wild("?")


def _segment_at(seg: list[object], text: str, pos: int) -> bool:
    if pos + len(seg) > len(text):
        return False
    for offset, item in enumerate(seg):
        if item is not _ONE and text[pos + offset] != item:
            return False
    return True


@lru_cache(maxsize=1024)
def _glob_segments(pattern: str, comparator: str) -> tuple[tuple, ...]:
    """The pattern split at '*' into segments; a segment without '?' is one plain string."""
    segments: list[list[object]] = [[]]
    for tok in parse_glob(fold(comparator, pattern)):
        if tok is _STAR:
            segments.append([])
        else:
            segments[-1].append(tok)
    return tuple(tuple(seg) for seg in segments)


def _find_segment(seg: tuple, text: str, pos: int, limit: int) -> int:
    if _ONE not in seg:
        return text.find("".join(seg), pos, limit)
    for start in range(pos, limit - len(seg) + 1):
        if _segment_at(seg, text, start):
            return start
    return -1


def glob_match(pattern: str, value: str, comparator: str) -> list[str] | None:
    """Match ``value`` against a Sieve wildcard pattern; the wildcard captures or None."""
    return glob_segments_match(_glob_segments(pattern, comparator), fold(comparator, value), value)


def glob_segments_match(segments: tuple[tuple, ...], text: str, value: str) -> list[str] | None:
    """The segment scan over ``text`` (``value`` folded); captures are cut from ``value``."""
    first, last = segments[0], segments[-1]
    if len(segments) == 1:
        if len(first) != len(text) or not _segment_at(first, text, 0):
            return None
        return [value] + [value[i] for i, t in enumerate(first) if t is _ONE]
    if not _segment_at(first, text, 0):
        return None
    end_start = len(text) - len(last)
    if end_start < len(first) or not _segment_at(last, text, end_start):
        return None
    placements = [0]
    pos = len(first)
    for seg in segments[1:-1]:
        found = _find_segment(seg, text, pos, end_start)
        if found < 0:
            return None
        placements.append(found)
        pos = found + len(seg)
    placements.append(end_start)
    captures = [value]
    prev_end = 0
    for index, (seg, start) in enumerate(zip(segments, placements, strict=True)):
        if index:
            captures.append(value[prev_end:start])
        captures.extend(value[start + i] for i, t in enumerate(seg) if t is _ONE)
        prev_end = start + len(seg)
    return captures


# --- :regex ----------------------------------------------------------------------

@lru_cache(maxsize=512)
def compile_regex(pattern: str, comparator: str):
    """Compile a Sieve :regex key with PCRE2 and the engine's match budgets."""
    if pcre2 is None:
        raise ValueError("the regex extension needs the 'pcre2' Python package")
    if len(pattern) > DEFAULT_LIMITS.max_regex_length:
        raise ValueError(f"regex too long (limit {DEFAULT_LIMITS.max_regex_length} characters)")
    flags = pcre2.DOTALL
    if comparator == "i;ascii-casemap":
        flags |= pcre2.IGNORECASE
    budget = (f"(*LIMIT_MATCH={DEFAULT_LIMITS.regex_match_limit})"
              f"(*LIMIT_DEPTH={DEFAULT_LIMITS.regex_depth_limit})")
    try:
        return pcre2.compile(budget + pattern, flags)
    except Exception as exc:  # pcre2 raises its own PatternError
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


def raw_code(compiled):
    """The PCRE2 code of ``compiled`` for a direct ``PCRE2_MATCH(code, text, len(text),
    0, PCRE2_CONTEXT, 0)[0]`` hit test (skips pcre2's per-call Python wrapper, ~0.7 µs;
    ``compiled.search`` then builds the Match on a hit), or None when this pcre2 build
    does not expose the internals the way 0.7 does (use ``search`` alone)."""
    code = getattr(compiled, "_pcre2_code", None)
    if PCRE2_MATCH is None or code is None or getattr(compiled, "callout", None) is not None:
        return None
    return code


def fast_searcher(compiled) -> Callable[[str], object]:
    """``compiled.search`` that skips building a Match object on a miss (see raw_code)."""
    code, search = raw_code(compiled), compiled.search
    if code is None:
        return search
    raw_match, context = PCRE2_MATCH, PCRE2_CONTEXT
    return lambda text: search(text) if raw_match(code, text, len(text), 0, context, 0)[0] else None


def _pcre2_internals():
    """(match function, empty match context) if they behave as expected, else (None, None)."""
    try:
        cy, context = pcre2._cy, pcre2._EMPTY_MATCH_CONTEXT
        probe = pcre2.compile("b+", 0)
        hit = cy.match(probe._pcre2_code, "abbc", 4, 0, context, 0)[0]
        miss = cy.match(probe._pcre2_code, "ac", 2, 0, context, 0)[0]
        if hit and not miss:
            return cy.match, context
    except Exception:  # any other pcre2 version: use the public API
        pass
    return None, None


PCRE2_MATCH, PCRE2_CONTEXT = _pcre2_internals() if pcre2 is not None else (None, None)


def regex_search(pattern: str, value: str, comparator: str) -> list[str] | None:
    try:
        compiled = compile_regex(pattern, comparator)
    except ValueError as exc:
        raise SieveRuntimeError(str(exc)) from None
    try:
        found = compiled.search(value)
    except Exception as exc:  # LibraryError: match/depth limit exceeded
        raise SieveRuntimeError(f"regex {pattern!r} exceeded its time budget: {exc}") from None
    if found is None:
        return None
    return [found.group(0)] + [g if g is not None else "" for g in found.groups()]


# --- the matcher ---------------------------------------------------------------------

class Matcher:
    """A compiled (match type, relation, comparator); ``match`` returns (hit, captures)."""

    def __init__(self, match_type: str = "is", comparator: str = "i;ascii-casemap",
                 relation: str | None = None):
        self.match_type = match_type
        self.comparator = comparator
        self.relation = relation
        self.captures_values = match_type in ("matches", "regex")

    def check(self, loc) -> None:
        if self.comparator == "i;ascii-numeric" and self.match_type in ("contains", "matches", "regex"):
            raise SieveCompileError(
                f"comparator i;ascii-numeric does not support :{self.match_type}", loc)

    def match(self, values: list[str], keys: list[str]) -> tuple[bool, list[str] | None]:
        mt, comp = self.match_type, self.comparator
        if mt == "count":
            count = str(len(values))
            return any(relation_holds(self.relation, ordering(comp, count, k)) for k in keys), None
        for value in values:
            for key in keys:
                if mt == "is":
                    if ordering(comp, value, key) == 0:
                        return True, None
                elif mt == "contains":
                    if fold(comp, key) in fold(comp, value):
                        return True, None
                elif mt == "value":
                    if relation_holds(self.relation, ordering(comp, value, key)):
                        return True, None
                elif mt == "matches":
                    captures = glob_match(key, value, comp)
                    if captures is not None:
                        return True, captures
                else:
                    captures = regex_search(key, value, comp)
                    if captures is not None:
                        return True, captures
        return False, None


MatchFunction = Callable[[list[str], list[str]], tuple[bool, "list[str] | None"]]
