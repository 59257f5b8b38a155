"""Sieve lexer: policy/sieve/lexer.py (tokens, strings, comments, locations)."""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve.errors import SieveCompileError
from ecelerity.policy.sieve.lexer import tokenize


def kinds(text):
    return [(t.kind, t.value) for t in tokenize(text)][:-1]


def test_tokens_and_locations():
    toks = tokenize('require "x";\n  if :is 10K', "s.sieve")
    assert [(t.kind, t.value) for t in toks] == [
        ("ident", "require"), ("string", "x"), ("punct", ";"), ("ident", "if"),
        ("tag", "is"), ("number", 10240), ("eof", None)]
    assert str(toks[3].loc) == "s.sieve:2:3"
    assert str(toks[5].loc) == "s.sieve:2:10"


def test_quoted_escapes_and_comments():
    assert kinds('"a\\"b\\\\c\\d" # c\n/* multi\nline */ x') == [("string", 'a"b\\cd'), ("ident", "x")]


def test_multiline_string_dot_unstuffing():
    assert kinds('text: # comment\nline1\n..dot\n.\n;') == [("string", "line1\r\n.dot\r\n"), ("punct", ";")]


@pytest.mark.parametrize("text, where, what", [
    ('"abc', "1:1", "unterminated quoted string"),
    ("x /* open", "1:3", "unterminated /* comment"),
    ("a\n  @", "2:3", "unexpected character"),
    ("text:\nno end", "1:1", "unterminated multi-line"),
    (": x", "1:1", "tag name"),
])
def test_errors_are_located(text, where, what):
    with pytest.raises(SieveCompileError) as info:
        tokenize(text, "f.sieve")
    assert str(info.value).startswith(f"f.sieve:{where}: ")
    assert what in str(info.value)
