"""Header addresses and RFC 5233 parts: policy/sieve/address_list.py (fast path vs stdlib)."""
from __future__ import annotations

from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.policy.sieve.address_list import _SIMPLE, address_part, parse_addresses

ATOM = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=5)
DOT_ATOM = st.lists(ATOM, min_size=1, max_size=3).map(".".join)
ADDR = st.tuples(DOT_ATOM, DOT_ATOM).map("@".join)
PHRASE = st.lists(ATOM, min_size=1, max_size=3).map(" ".join)
SPACE = st.sampled_from(["", " ", "\t", "  "])


def stdlib(value: str) -> list[str]:
    return [addr for _display, addr in getaddresses([value]) if addr]


@settings(max_examples=400, deadline=None)
@given(SPACE, st.one_of(ADDR, st.tuples(PHRASE, SPACE, ADDR).map(lambda t: f"{t[0]}{t[1]}<{t[2]}>"),
                        ADDR.map(lambda a: f"<{a}>")), SPACE)
def test_simple_shapes_take_the_fast_path_and_agree_with_getaddresses(before, shape, after):
    value = before + shape + after
    assert _SIMPLE.fullmatch(value) is not None
    assert parse_addresses(value) == stdlib(value)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='ab@.<>", ;:()\\[]x\t', max_size=20))
def test_any_text_agrees_with_getaddresses(value):
    assert parse_addresses(value) == stdlib(value)


def test_complex_forms_fall_back_to_the_stdlib():
    value = '"Doe, John" <j@x.example>, b@y.example (comment), Group: c@z.example;'
    assert _SIMPLE.fullmatch(value) is None
    assert parse_addresses(value) == stdlib(value) == ["j@x.example", "b@y.example", "c@z.example"]


def test_address_parts():
    assert address_part("user+tag@Example.org", "localpart") == "user+tag"
    assert address_part("user+tag@Example.org", "domain") == "Example.org"
    assert address_part("user+tag@Example.org", "user") == "user"
    assert address_part("user+tag@Example.org", "detail") == "tag"
    assert address_part("user@Example.org", "detail") is None
    assert address_part("nodomain", "domain") == ""
