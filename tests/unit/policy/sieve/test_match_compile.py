"""Compile-time match specialisation: policy/sieve/match_compile.py agrees with Matcher.match."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.policy.sieve.errors import SieveRuntimeError
from ecelerity.policy.sieve.match_compile import casefold_ascii, compile_glob, compile_match
from ecelerity.policy.sieve.matchers import (RELATIONS, Matcher, compile_regex, fast_searcher,
                                             glob_match)
from ecelerity.policy.sieve.message_view import MessageView
from ecelerity.policy.sieve.runtime import Runtime

# Small alphabets so that hits, case differences, digits and wildcards all occur often.
TEXT = st.text(alphabet="aAbB0129 .@-ÄäK\u212a", max_size=8)
GLOB = st.text(alphabet="aAbB09*?\\.@", max_size=7)
REGEX = st.sampled_from(["^a", "b$", "(a+)(b*)", "[0-9]+", "^$", "A.B", "(?:x)?(a)|(b)", "\\d{2}"])
COMPARATORS = ("i;ascii-casemap", "i;octet", "i;ascii-numeric")


def _both(matcher: Matcher, values: list[str], keys: list[str]) -> tuple:
    rt_fast, rt_generic = Runtime(MessageView(b"")), Runtime(MessageView(b""))
    fast = compile_match(matcher, lambda rt: keys, keys)(rt_fast, values)
    slow = compile_match(matcher, lambda rt: keys, None)(rt_generic, values)
    return fast, slow, rt_fast.match_values, rt_generic.match_values


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["is", "contains", "value", "count"]), st.sampled_from(COMPARATORS),
       st.sampled_from(RELATIONS), st.lists(TEXT, max_size=4), st.lists(TEXT, min_size=1, max_size=3))
def test_specialised_match_agrees_with_the_generic_matcher(match_type, comparator, relation, values, keys):
    if comparator == "i;ascii-numeric" and match_type == "contains":
        return  # a compile error (Matcher.check), never run
    matcher = Matcher(match_type, comparator, relation if match_type in ("value", "count") else None)
    fast, slow, _, _ = _both(matcher, values, keys)
    assert fast == slow


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["i;ascii-casemap", "i;octet"]), st.lists(TEXT, max_size=4),
       st.lists(GLOB, min_size=1, max_size=3))
def test_specialised_matches_agrees_including_captures(comparator, values, keys):
    fast, slow, fast_captures, slow_captures = _both(Matcher("matches", comparator), values, keys)
    assert fast == slow
    assert fast_captures == slow_captures


@settings(max_examples=300, deadline=None)
@given(GLOB, TEXT, st.sampled_from(["i;ascii-casemap", "i;octet"]))
def test_compiled_glob_agrees_with_glob_match(pattern, value, comparator):
    folded = casefold_ascii(value) if comparator == "i;ascii-casemap" else value
    assert compile_glob(pattern, comparator)(folded, value) == glob_match(pattern, value, comparator)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["i;ascii-casemap", "i;octet"]), st.lists(TEXT, max_size=4),
       st.lists(REGEX, min_size=1, max_size=3))
def test_specialised_regex_agrees_including_captures(comparator, values, keys):
    fast, slow, fast_captures, slow_captures = _both(Matcher("regex", comparator), values, keys)
    assert fast == slow
    assert fast_captures == slow_captures


@settings(max_examples=200, deadline=None)
@given(REGEX, TEXT)
def test_fast_searcher_agrees_with_pcre2_search(pattern, text):
    compiled = compile_regex(pattern, "i;octet")
    fast, public = fast_searcher(compiled)(text), compiled.search(text)
    assert (fast is None) == (public is None)
    if fast is not None:
        assert fast.group(0) == public.group(0)


def test_casefold_is_ascii_only():
    assert casefold_ascii("ÄbC") == "Äbc"           # Ä is not folded by i;ascii-casemap
    assert casefold_ascii("\u212aA") == "\u212aa"   # neither is the Kelvin sign


def test_a_catastrophic_regex_is_still_a_runtime_error_when_specialised():
    check = compile_match(Matcher("regex"), lambda rt: [], ["^(a+)+$"])
    with pytest.raises(SieveRuntimeError, match="time budget"):
        check(Runtime(MessageView(b"")), ["a" * 60 + "!"])


def test_count_counts_values_even_when_there_are_none():
    check = compile_match(Matcher("count", "i;ascii-numeric", "eq"), lambda rt: [], ["0"])
    assert check(Runtime(MessageView(b"")), [])
