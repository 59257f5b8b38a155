"""policy/sieve/codegen.py: the generated function behaves exactly like the closure tree.

The corpus is every script of the existing Sieve tests (unit, scenarios, the
Pigeonhole cases) run over the Pigeonhole messages both ways; then error locations,
inlined shapes and the fallback to the closure tree.
"""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve import Limits, MessageView, compile_script, run_script
from ecelerity.policy.sieve.codegen import generate
from tests.unit.policy.sieve.codegen_diff import PRELUDE, corpus, differences, load_cases, snapshot

CASES = load_cases()
MESSAGES = [(name, text.encode("utf-8")) for name, text in CASES.MESSAGES.items()]
ENVELOPES = [(CASES.FROM, CASES.TO), ("", "abuse@example.com")]
CORPUS = corpus()


def test_corpus_is_the_real_test_corpus():
    labels = {label.split("#")[0].split(":")[0] for label, _ in CORPUS}
    assert len(CORPUS) >= 170, len(CORPUS)
    assert {"pigeonhole", "test_engine.py", "test_momentum_actions.py", "test_sieve_phases.py"} <= labels
    generated = sum(1 for _, script in CORPUS if script.generated)
    assert generated == len(CORPUS)  # none of these is deep enough to need the fallback


@pytest.mark.parametrize("index", range(0, 8))
def test_generated_code_matches_the_closure_tree_on_the_corpus(index, tmp_path, monkeypatch):
    # eight slices so a failure names a small range and the work spreads over workers;
    # scripts that write files (maildir, ec_log_file) write under tmp_path
    monkeypatch.chdir(tmp_path)
    for label, script in CORPUS[index::8]:
        for message_name, raw in MESSAGES:
            for env_from, env_to in ENVELOPES:
                got, want = differences(script, raw, env_from, env_to)
                assert got == want, (label, message_name, env_from, script.run.sieve_source)


EDGES = [  # the inlined fast paths at their limits (tight limits below)
    'global "g"; $g = "x"; if ec_test :is $g "x" { fileinto "G"; }',
    'global "g"; set "g" "x"; if ec_test :is $g "x" { fileinto "G"; } if string "${g}" "x" { keep; }',
    '$a = "1"; $b = "2"; $c = "3"; fileinto "never";',
    '$a = "1"; $a = "2"; $b = "22"; if ec_test :is $b "22" { discard; }',
    '$a = "123456"; $b = "1234567"; if ec_test :is $b "1234567" { discard; } fileinto "${a}";',
    '$l = split "a,b" ","; $m = "x"; if ec_test :is $l "b" { keep; } if ec_test :count "eq" $l "2" { stop; }',
    '$l = split "a,b" ","; $l = "x"; if ec_test :is $l "a" { keep; } else { discard; }',
    'if anyof (not exists "Subject", size :under 1, header :matches "From" "*@*") { fileinto "${1}"; }',
]
TIGHT = Limits(max_variable_size=24, max_variables=2)


@pytest.mark.parametrize("text", EDGES)
def test_inlined_fast_paths_at_their_limits(text):
    script = compile_script(PRELUDE + text, "edge.siv", limits=TIGHT)
    assert script.generated
    raw = MESSAGES[0][1]
    got, want = (repr(sorted(snapshot(runner, raw, CASES.FROM, CASES.TO, TIGHT).items()))
                 for runner in (script.run, script.run_reference))
    assert got == want


def test_runtime_errors_keep_the_script_location():
    text = ('require "variables";\nset "n" "abc";\nif true {\n    if exists "Subject" {\n'
            '        ec_tarpit "${n}";\n    }\n}\n')
    script = compile_script(text, "policy.siv")
    assert script.generated
    result = run_script(script, MessageView(b"Subject: x\r\n\r\nbody\r\n"))
    assert result.error == "runtime"
    assert "policy.siv:5:9" in result.message, result.message
    reference = run_script(compile_script(text, "policy.siv", codegen=False),
                           MessageView(b"Subject: x\r\n\r\nbody\r\n"))
    assert reference.message == result.message


def test_hot_shapes_are_inlined_not_called():
    text = ('require ["variables", "relational"];\n$v = vctx_conn_get "ehlo_domain";\n'
            'if ec_test :is $v "x" { keep; }\nif header :contains "Subject" "a" { keep; }\n'
            'if anyof (exists "X-A", not size :over 10K) { discard; } elsif false { stop; } else { keep; }\n')
    source = compile_script(text, "s.siv").run.sieve_source
    assert "scope.variables['v'] = value" in source
    assert "view.fold_one('subject')" in source
    assert "('x-a' in (_i if (_i := view._index) is not None else view._fields()))" in source
    assert "else view.size) > 10240)" in source
    assert "elif False:" in source and "else:" in source
    assert "run_if" not in source


def test_too_deep_for_python_falls_back_to_the_closure_tree():
    depth = 70
    text = "if true {\n" * depth + "discard;\n" + "}\n" * depth
    limits = Limits(max_nesting=200)
    script = compile_script(text, "deep.siv", limits=limits)
    assert not script.generated
    assert generate("deep.siv", script.block) is None
    result = run_script(script, MessageView(b"Subject: x\r\n\r\n"), limits)
    assert result.actions == [{"action": "discard"}]
    shallow = compile_script("if true {\n" * 20 + "discard;\n" + "}\n" * 20, "ok.siv")
    assert shallow.generated


def test_codegen_can_be_switched_off(monkeypatch):
    assert not compile_script("keep;", codegen=False).generated
    monkeypatch.setenv("ECELERITY_SIEVE_CODEGEN", "0")
    assert not compile_script("keep;").generated
    monkeypatch.setenv("ECELERITY_SIEVE_CODEGEN", "1")
    assert compile_script("keep;").generated


HEADER_MESSAGES = [  # one value, several values, none, non-ASCII (encoded word), folded
    b"Subject: Big OFFER inside\r\nFrom: Ann <ann@Bulk1.example>\r\n\r\nbody\r\n",
    b"Subject: a\r\nSubject: offer\r\nFrom: x@y\r\nFrom: b@bulk1.example\r\n\r\nbody\r\n",
    b"To: nobody@example.com\r\n\r\nbody\r\n",
    b"Subject: =?utf-8?q?=C3=84_OFFER_=C3=A4?=\r\nFrom: =?utf-8?q?=C3=84?= <@BULK1.EXAMPLE>\r\n\r\nb\r\n",
    b"Subject: multi\r\n line OFFER\r\nFrom:\r\n\r\nb\r\n",
]
HEADER_TESTS = [  # the header tests codegen writes inline (one_header), with captures after
    'header :contains "Subject" "offer"', 'header :contains "Subject" ["x", "Ä", "line offer"]',
    'header :contains :comparator "i;octet" "Subject" ["OFFER", "Ä"]',
    'header :contains "Subject" ""', 'header :is "Subject" ["a", "big offer inside"]',
    'header :is :comparator "i;octet" "Subject" "Big OFFER inside"',
    'header :matches "From" "*@bulk1.example>"', 'header :matches "From" ["*", "x@y"]',
    'header :matches "From" "ann <ann@bulk1.example>"', 'header :matches "From" "*<@BULK1.example>"',
    'header :matches :comparator "i;octet" "From" ["*@Bulk1.example>", "*@BULK1.EXAMPLE>"]',
]
CALLED_TESTS = ['header :matches "From" "*@bulk1.example*"', 'header :matches "From" "*<@BULK1*"',
                'header :matches "Subject" ["?ig*", "*e*r*"]', 'header :matches "Subject" "**"']


@pytest.mark.parametrize("test", HEADER_TESTS + CALLED_TESTS)
def test_inline_header_tests_match_the_closure_tree(test):
    text = (f'require ["variables", "fileinto"];\nif {test} {{ set "hit" "${{0}}|${{1}}|${{2}}"; fileinto "A"; }}\n'
            f'if anyof (not {test}, false) {{ keep; }}\n')
    script = compile_script(text, "inline.siv")
    # inlined (on the one value, or on the cached folded value), not called ('?' or two
    # '*' keep the call)
    source = script.run.sieve_source
    assert ("_h[0]" in source or "fold_one(" in source) == (test in HEADER_TESTS), source
    hits = 0
    for raw in HEADER_MESSAGES:
        for runner_pair in [(script.run, script.run_reference)]:
            got, want = (snapshot(runner, raw, CASES.FROM, CASES.TO) for runner in runner_pair)
            assert got == want, (test, raw)
            hits += got["variables"].get("hit") is not None
    assert 0 < hits or test.endswith('"x", "Ä", "line offer"]'), test
