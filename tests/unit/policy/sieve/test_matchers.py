"""Comparators and match types: policy/sieve/matchers.py."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.policy.sieve.errors import SieveRuntimeError
from ecelerity.policy.sieve.matchers import Matcher, glob_match, numeric_value, ordering


def reference_glob(pattern: str, value: str) -> bool:
    """Independent oracle: the glob translated to an anchored Python regex."""
    return re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                        value, re.S) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab", max_size=10))
def test_glob_agrees_with_regex_oracle(pattern, value):
    captures = glob_match(pattern, value, "i;octet")
    assert (captures is not None) == reference_glob(pattern, value)
    if captures is not None:
        assert captures[0] == value
        assert len(captures) == 1 + pattern.count("*") + pattern.count("?")


def test_glob_captures_are_shortest_first():
    assert glob_match("* *", "Hello big World", "i;octet") == ["Hello big World", "Hello", "big World"]
    assert glob_match("h?llo*", "HeLLo x", "i;ascii-casemap") == ["HeLLo x", "e", " x"]
    assert glob_match("a\\*b", "a*b", "i;octet") == ["a*b"]
    assert glob_match("a\\*b", "axb", "i;octet") is None


def test_glob_is_linear_on_hostile_patterns():
    start = time.perf_counter()
    assert glob_match("*a" * 40 + "b", "a" * 5000, "i;octet") is None
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("text, value", [("007", 7), ("12abc", 12), ("abc", float("inf")), ("", float("inf"))])
def test_ascii_numeric_value(text, value):
    assert numeric_value(text) == value


def test_orderings():
    assert ordering("i;ascii-numeric", "10", "9") > 0
    assert ordering("i;ascii-casemap", "10", "9") < 0
    assert ordering("i;ascii-casemap", "ABC", "abc") == 0
    assert ordering("i;octet", "ABC", "abc") < 0


def test_relational_count_and_value():
    assert Matcher("count", "i;ascii-numeric", "ge").match(["a", "b"], ["2"])[0]
    assert not Matcher("count", "i;ascii-numeric", "gt").match(["a", "b"], ["2"])[0]
    assert Matcher("value", "i;ascii-numeric", "gt").match(["7", "12"], ["10"])[0]
    assert not Matcher("value", "i;ascii-numeric", "lt").match(["7", "12"], ["5"])[0]


def test_regex_groups_and_case():
    hit, captures = Matcher("regex").match(["Hello World"], ["^(h[a-z]+) (w.*)$"])
    assert hit and captures == ["Hello World", "Hello", "World"]
    assert not Matcher("regex", "i;octet").match(["Hello"], ["hello"])[0]


def test_catastrophic_regex_is_bounded():
    start = time.perf_counter()
    with pytest.raises(SieveRuntimeError, match="budget"):
        Matcher("regex").match(["a" * 60 + "!"], ["^(a+)+$"])
    assert time.perf_counter() - start < 2


def test_invalid_regex_is_a_runtime_error():
    with pytest.raises(SieveRuntimeError, match="invalid regex"):
        Matcher("regex").match(["x"], ["("])
