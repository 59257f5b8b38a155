"""codegen.py's anchored-prefix prefilter of one-field ``header :regex`` tests.

match_compile._regex_prefixes says which literal text a ``^literal...`` key must
start with; the generated code calls the regex only for a value starting with it
(folded under i;ascii-casemap) or a non-ASCII one (caseless UTF matching pairs the
Kelvin sign with "k"). Hit or miss, captures and variables must be those of the
closure tree.
"""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.match_compile import _regex_prefixes
from tests.unit.policy.sieve.codegen_diff import snapshot

CASEMAP, OCTET = "i;ascii-casemap", "i;octet"


@pytest.mark.parametrize("keys, comp, want", [
    (["^massmail-3\\b"], CASEMAP, ("massmail-3",)),
    (["^MassMail"], CASEMAP, ("massmail",)),
    (["^MassMail"], OCTET, ("MassMail",)),
    (["^abc*", "^ab+c", "^ab?", "^ab{2}"], CASEMAP, ("ab", "ab", "a", "a")),
    (["^Foo.bar", "^x\\d"], CASEMAP, ("foo", "x")),
    (["^a|b"], CASEMAP, None),       # alternation: not anchored as a whole
    (["abc"], CASEMAP, None),        # not anchored
    (["^(x)"], CASEMAP, None),       # no literal text first
    (["^x*"], CASEMAP, None),        # the only literal is optional
    (["^ke", "tool"], CASEMAP, None),  # one key without a prefix: no prefilter at all
    (["^é"], CASEMAP, None),         # non-ASCII literal: left to PCRE2
])
def test_prefixes_of_anchored_literal_keys(keys, comp, want):
    assert _regex_prefixes(keys, comp) == want


MESSAGES = [
    b"X-Mailer: massmail-3 v1\r\n\r\nb\r\n",
    b"X-Mailer: MassMail-3 v2\r\n\r\nb\r\n",
    b"X-Mailer: tool 3\r\n\r\nb\r\n",
    "X-Mailer: \u212aey-4 (Kelvin)\r\n\r\nb\r\n".encode(),  # caseless UTF: K-sign ~ k
    b"X-Mailer: key-4\r\nX-Mailer: other\r\n\r\nb\r\n",    # two fields: no folded value
    b"Subject: no mailer\r\n\r\nb\r\n",
]
TESTS = [
    'header :regex "X-Mailer" "^massmail-(3)\\\\b"',
    'header :regex "X-Mailer" ["^nomatch", "^MASSMAIL-([0-9])"]',
    'header :regex :comparator "i;octet" "X-Mailer" "^MassMail-(.)"',
    'header :regex "X-Mailer" "^key-(4)"',
    'header :regex "X-Mailer" "^k+ey"',
]


@pytest.mark.parametrize("test", TESTS)
def test_prefiltered_regex_matches_the_closure_tree(test):
    text = (f'require ["regex", "variables", "fileinto"];\n'
            f'if {test} {{ set "hit" "${{0}}|${{1}}"; fileinto "A"; }}\n'
            f'if not {test} {{ set "miss" "yes"; }}\n')
    script = compile_script(text, "prefix.siv")
    assert script.generated
    results = []
    for raw in MESSAGES:
        got, want = (snapshot(runner, raw, "s@x.example", "r@y.example")
                     for runner in (script.run, script.run_reference))
        assert got == want, (test, raw)
        results.append(got["variables"].get("hit"))
    assert any(results) and not all(results), (test, results)


def test_the_prefilter_is_in_the_generated_code_and_skips_the_regex():
    text = 'require "regex";\nif header :regex "X-Mailer" "^massmail-3\\\\b" { discard; }\n'
    script = compile_script(text, "prefix.siv")
    source = script.run.sieve_source
    assert ".startswith(p" in source and "isascii()" in source, source
    calls = []
    check = next(v for v in script.run.__globals__.values()
                 if getattr(v, "sieve_shape", ("",))[0] == "regex")
    script.run.__globals__[next(k for k, v in script.run.__globals__.items() if v is check)] = (
        lambda rt, values: calls.append(values) or check(rt, values))
    for raw, hit in ((b"X-Mailer: tool 3\r\n\r\nb\r\n", False),
                     (b"X-Mailer: MASSMAIL-3 x\r\n\r\nb\r\n", True),
                     ("X-Mailer: \u212aey\r\n\r\nb\r\n".encode(), False)):
        snap = snapshot(script.run, raw, "", "")
        assert (snap["actions"][0]["action"] == "discard") == hit
    # the ASCII miss never reached PCRE2; the hit and the non-ASCII value did
    assert calls == [["MASSMAIL-3 x"], ["\u212aey"]]


def test_the_kelvin_sign_really_matches_caselessly():
    """The reason non-ASCII values bypass the prefilter (if PCRE2 stops pairing them,
    the prefilter is merely conservative there)."""
    script = compile_script('require "regex";\nif header :regex "X" "^key" { discard; }\n', "k.siv")
    snap = snapshot(script.run_reference, "X: \u212aey\r\n\r\nb\r\n".encode(), "", "")
    assert snap["actions"] == [{"action": "discard"}]
