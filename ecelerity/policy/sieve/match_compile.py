"""Compile-time specialisation of a test's match: (match type, comparator, keys) -> closure.

Called by the test builders (tests_std.py, ext_variables.py, ext_momentum_functions.py)
when they are compiled. With constant keys (the common case) the keys are folded,
parsed as numbers, turned into glob segments or PCRE2 patterns once, and the returned
``check(rt, values) -> bool`` does no per-run dispatch on strings; keys that depend on
variables fall back to the generic ``Matcher.match``. A successful :matches/:regex
stores its captures as match variables, exactly like the generic path (the tests
compare both). The :is checks record their folded key set (codegen.shape) so
codegen.py can inline them. Never reads the message itself: the caller passes the values.
"""
from __future__ import annotations

import operator
from typing import Callable

from .codegen import shape
from .errors import SieveRuntimeError
from .matchers import (_ASCII_LOWER, _ONE, Matcher, _glob_segments, compile_regex,
                       PCRE2_CONTEXT, PCRE2_MATCH, glob_segments_match, numeric_value, raw_code)
from .runtime import Runtime

Check = Callable[[Runtime, list[str]], bool]
KeysFn = Callable[[Runtime], list[str]]
RELATION_OPS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
                "eq": operator.eq, "ne": operator.ne}


def casefold_ascii(text: str) -> str:
    """i;ascii-casemap folding: only A-Z change (``str.lower`` when the text is ASCII and
    has an upper-case letter; a lower-case ASCII text is returned as it is, no copy)."""
    if text.isascii():
        return text if text.islower() else text.lower()
    return text.translate(_ASCII_LOWER)


def _octet_key(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _identity(text: str) -> str:
    return text


ORDER_KEYS: dict[str, Callable[[str], object]] = {
    "i;ascii-casemap": casefold_ascii, "i;octet": _octet_key, "i;ascii-numeric": numeric_value}


def compile_match(matcher: Matcher, keys_fn: KeysFn, const_keys: list[str] | None) -> Check:
    """``check(rt, values)``: whether any value matches any key (captures stored on a hit).

    A constant :regex check names ``matcher.loc`` (the test's file:line:col, set by
    compiler.compile_test) in its budget errors, so the test needs no locating wrapper.
    """
    if const_keys is None:
        return _generic(matcher, keys_fn)
    mt, comp, keys = matcher.match_type, matcher.comparator, list(const_keys)
    if mt == "matches":
        return _glob_check(keys, comp)
    if mt == "regex":
        return _regex_check(keys, comp, getattr(matcher, "loc", None))
    if mt == "count":
        op, order = RELATION_OPS[matcher.relation], ORDER_KEYS[comp]
        folded = tuple(order(k) for k in keys)

        def count(rt: Runtime, values: list[str]) -> bool:
            number = order(str(len(values)))
            for key in folded:
                if op(number, key):
                    return True
            return False
        return count
    if mt == "value":
        op, order = RELATION_OPS[matcher.relation], ORDER_KEYS[comp]
        folded = tuple(order(k) for k in keys)

        def value(rt: Runtime, values: list[str]) -> bool:
            for item in values:
                left = order(item)
                for key in folded:
                    if op(left, key):
                        return True
            return False
        if comp != "i;ascii-numeric":
            return value
        return shape(value, "numeric", matcher.relation, folded)  # codegen.py inlines one value
    if mt == "contains":
        fold = casefold_ascii if comp == "i;ascii-casemap" else _identity
        needles = tuple(fold(k) for k in keys)

        def contains(rt: Runtime, values: list[str]) -> bool:
            for item in values:
                haystack = fold(item)
                for needle in needles:
                    if needle in haystack:
                        return True
            return False
        return shape(contains, "contains", fold is casefold_ascii, needles)
    return _is_check(keys, comp)


def _is_check(keys: list[str], comp: str) -> Check:
    if comp == "i;ascii-numeric":
        numbers = frozenset(numeric_value(k) for k in keys)

        def is_numeric(rt: Runtime, values: list[str]) -> bool:
            for item in values:
                if numeric_value(item) in numbers:
                    return True
            return False
        return is_numeric
    if comp == "i;octet":
        exact = frozenset(keys)

        def is_octet(rt: Runtime, values: list[str]) -> bool:
            for item in values:
                if item in exact:
                    return True
            return False
        return shape(is_octet, "in", "octet", exact)
    folded = frozenset(casefold_ascii(k) for k in keys)

    def is_casemap(rt: Runtime, values: list[str]) -> bool:
        for item in values:
            if ((item if item.islower() else item.lower()) if item.isascii()
                    else item.translate(_ASCII_LOWER)) in folded:
                return True
        return False
    return shape(is_casemap, "in", "casemap", folded)


def _glob_check(keys: list[str], comp: str) -> Check:
    """Values outer, keys inner (the generic order, so the same captures win)."""
    globs = tuple(compile_glob(k, comp) for k in keys)
    fold = casefold_ascii if comp == "i;ascii-casemap" else _identity

    def check(rt: Runtime, values: list[str]) -> bool:
        for item in values:
            text = fold(item)
            for glob in globs:
                captures = glob(text, item)
                if captures is not None:
                    rt.set_matches(captures)
                    return True
        return False
    return shape(check, "globs", fold is casefold_ascii, _glob_prefilters(keys, comp))


def _glob_prefilters(keys: list[str], comp: str) -> tuple | None:
    """Per key ``(prefix, suffix)`` when every key is "literal" or "prefix*suffix" (no '?').

    A folded value matches such a key exactly when it is at least len(prefix+suffix)
    long and starts/ends with them (a literal: suffix None, equality), so codegen.py
    can test that inline and call the check (which stores the captures) only on a hit.
    """
    out = []
    for key in keys:
        segments = _glob_segments(key, comp)
        if any(_ONE in seg for seg in segments) or len(segments) > 2:
            return None
        if len(segments) == 1:
            out.append(("".join(segments[0]), None))
        else:
            out.append(("".join(segments[0]), "".join(segments[1])))
    return tuple(out)


def compile_glob(pattern: str, comp: str) -> Callable[[str, str], "list[str] | None"]:
    """A :matches key as ``glob(folded_value, value) -> captures | None``.

    "literal" and "prefix*suffix" (no '?') get direct string tests; anything else
    runs the segment scan of matchers.glob_segments_match on precomputed segments.
    """
    segments = _glob_segments(pattern, comp)
    plain = all(_ONE not in seg for seg in segments)
    if plain and len(segments) == 1:
        literal = "".join(segments[0])
        return lambda text, value: [value] if text == literal else None
    if plain and len(segments) == 2:
        prefix, suffix = "".join(segments[0]), "".join(segments[1])
        fixed, start = len(prefix) + len(suffix), len(prefix)

        def prefix_suffix(text: str, value: str) -> list[str] | None:
            if len(text) >= fixed and text.startswith(prefix) and text.endswith(suffix):
                return [value, value[start:len(value) - len(suffix)]]
            return None
        return prefix_suffix
    return lambda text, value: glob_segments_match(segments, text, value)


def _regex_check(keys: list[str], comp: str, loc=None) -> Check:
    """Patterns compiled once; a miss costs one direct PCRE2 call (matchers.raw_code)."""
    compiled = []
    for key in keys:
        try:
            pattern = compile_regex(key, comp)
        except ValueError as exc:  # the compiler rejects these first; kept for safety
            raise SieveRuntimeError(str(exc)) from None
        compiled.append((key, raw_code(pattern), pattern.search))
    patterns = tuple(compiled)
    raw_match, context = PCRE2_MATCH, PCRE2_CONTEXT

    def check(rt: Runtime, values: list[str]) -> bool:
        for item in values:
            for key, code, search in patterns:
                try:
                    if code is not None and not raw_match(code, item, len(item), 0, context, 0)[0]:
                        continue
                    found = search(item)
                except Exception as exc:  # LibraryError: match/depth limit exceeded
                    raise SieveRuntimeError(f"regex {key!r} exceeded its time budget: {exc}",
                                            loc) from None
                if found is not None:
                    rt.set_matches([found.group(0)] + [g if g is not None else "" for g in found.groups()])
                    return True
        return False
    check.located = loc is not None
    return shape(check, "regex", comp == "i;ascii-casemap", _regex_prefixes(keys, comp))


_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}#")


def _regex_prefixes(keys: list[str], comp: str) -> tuple[str, ...] | None:
    """Per key the ASCII literal text a match must start with (folded for i;ascii-casemap),
    when every key is ``^literal...`` without ``|``; else None. PCRE2 tries an anchored
    pattern at offset 0 only, so a value that does not start with it (an ASCII value, as
    caseless UTF matching may pair a non-ASCII letter with an ASCII one) cannot match,
    run out of budget or capture: codegen.py tests that first and calls the check on a hit."""
    out = []
    for key in keys:
        if not key.startswith("^") or "|" in key:
            return None
        end = 1
        while end < len(key) and key[end] not in _REGEX_SPECIAL:
            end += 1
        if end < len(key) and key[end] in "?*{":  # the last literal is optional or counted
            end -= 1
        prefix = key[1:end]
        if not prefix or not prefix.isascii():
            return None
        out.append(casefold_ascii(prefix) if comp == "i;ascii-casemap" else prefix)
    return tuple(out) or None


def _generic(matcher: Matcher, keys_fn: KeysFn) -> Check:
    capturing = matcher.captures_values
    match = matcher.match

    def check(rt: Runtime, values: list[str]) -> bool:
        hit, captures = match(values, keys_fn(rt))
        if hit and capturing:
            rt.set_matches(captures)
        return hit
    return check


__all__ = ["casefold_ascii", "compile_glob", "compile_match"]
