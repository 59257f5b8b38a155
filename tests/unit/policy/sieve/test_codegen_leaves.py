"""codegen.py's inlined envelope/address/:regex leaves against the closure tree.

The per-message envelope cache (MessageView.envelope_part_values) must follow an
envelope changed in the middle of a run, and a :regex header test, which now runs
without the locating wrapper, must still name its file:line:col on a budget error.
"""
from __future__ import annotations

import pytest

from ecelerity.core.envelope import Envelope
from ecelerity.policy.sieve import MessageView, compile_script, run_script
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.runtime import Runtime
from ecelerity.policy.vctx import ValidationContext
from tests.unit.policy.sieve.codegen_diff import snapshot

MESSAGES = [
    b"To: Abuse+x@Example.com\r\nFrom: Ann <ann@bulk.example>\r\nX-Mailer: massmail-3 v1\r\n\r\nb\r\n",
    b"To: a@b, c@d\r\nTo: \"q u\"@example.com\r\nX-Mailer: other\r\nX-Mailer: MASSMAIL-3\r\n\r\nb\r\n",
    b"Subject: none of them\r\n\r\nb\r\n",
]
ENVELOPES = [("s1@Spam1.example", "abuse+tag@example.com"), ("", ""), ("<>", "<x@y>"),
             ("no-at-sign", "u@")]
LEAVES = [
    'envelope :domain :is "from" "spam1.example"', 'envelope :all :is "from" ""',
    'envelope :localpart :contains "to" "abuse"', 'envelope :detail :is "to" "tag"',
    'envelope :user :matches "to" "ab*"', 'envelope :all :matches "from" "*"',
    'address :localpart :is "To" "abuse+x"', 'address :domain :is "To" ["d", "example.com"]',
    'address :all :contains "From" "bulk"', 'address :user :matches "To" "a*"',
    'header :regex "X-Mailer" "^massmail-(3)\\\\b"', 'header :regex "Subject" "(o)ne"',
    'address :detail :regex "To" "^(x)$"',
]


@pytest.mark.parametrize("test", LEAVES)
def test_inlined_leaves_match_the_closure_tree(test):
    text = (f'require ["envelope", "regex", "variables", "subaddress", "fileinto"];\n'
            f'if {test} {{ set "hit" "${{0}}|${{1}}"; fileinto "A"; }}\n'
            f'if anyof (not {test}, false) {{ keep; }}\n')
    script = compile_script(text, "leaf.siv")
    source = script.run.sieve_source
    assert script.generated and "t0(rt)" not in source and "t1(rt)" not in source, source
    hits = 0
    for raw in MESSAGES:
        for env_from, env_to in ENVELOPES:
            got, want = (snapshot(runner, raw, env_from, env_to)
                         for runner in (script.run, script.run_reference))
            assert got == want, (test, raw, env_from, env_to)
            hits += got["variables"].get("hit") is not None
    assert hits, test


def test_envelope_values_follow_a_rewritten_mail_from():
    text = ('require ["envelope", "variables"];\n'
            'if envelope :domain :is "from" "old.example" { set "before" "yes"; }\n'
            'ec_rewrite_mailfrom "someone@new.example";\n'
            'if envelope :domain :is "from" "new.example" { set "after" "yes"; }\n'
            'if envelope :domain :is "from" "old.example" { set "stale" "yes"; }\n')
    for codegen in (True, False):
        script = compile_script(text, "rw.siv", codegen=codegen)
        assert script.generated == codegen
        message = type("Inbound", (), {})()
        message.envelope = Envelope(mail_from="a@old.example", recipients=[])
        host = PolicyHost(ValidationContext(), message=message, can_sleep=False)
        rt = Runtime(MessageView(b"Subject: x\r\n\r\nb\r\n", "a@old.example", "r@x"), host=host)
        script.run(rt)
        assert rt.scope.variables == {"before": "yes", "after": "yes"}, codegen
        assert message.envelope.mail_from == "someone@new.example"


def test_envelope_part_values_are_cached_per_address():
    view = MessageView(b"\r\n", "A@Old.example", "")
    first = view.envelope_part_values("from", "domain")
    assert first == ["Old.example"] and view.envelope_part_values("from", "domain") is first
    assert view.envelope_part_values("to", "all") == []
    assert MessageView(b"\r\n").envelope_part_values("from", "all") == [""]
    assert MessageView(b"\r\n").envelope_part_values("from", "domain") == []
    view.envelope["from"] = "b@new.example"
    assert view.envelope_part_values("from", "domain") == ["new.example"]


def test_header_regex_budget_error_names_the_test_without_a_wrapper():
    text = 'require "regex";\nif true {\n  if header :regex "Subject" "(a+)+$" { discard; }\n}\n'
    raw = b"Subject: " + b"a" * 3000 + b"!\r\n\r\nb\r\n"
    messages = []
    for codegen in (True, False):
        script = compile_script(text, "re.siv", codegen=codegen)
        assert script.generated == codegen
        if codegen:
            called = [getattr(v, "__name__", "") for v in script.run.__globals__.values()]
            assert "located" not in called and "header_one" not in called, called
        result = run_script(script, MessageView(raw))
        assert result.error == "runtime" and "time budget" in result.message
        assert "re.siv:3:6" in result.message, result.message
        messages.append(result.message)
    assert messages[0] == messages[1]
