"""codegen.py's inlined value reads against the closure tree.

``$x = vctx_conn_get "k"`` and ``$x = ec_throttle_check "t"`` read the vctx dict and
the throttle cache inline, ``$x = ...; if ec_test ... $x`` tests the just-stored
value without reading the variable back, and a one-value ``:value`` test with the
i;ascii-numeric comparator compares numbers inline. Each must behave exactly like
the closures, including at the limits where the fast paths do not apply (a value
truncated to max_variable_size, a list value, a global, too many variables, no host).
"""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve import Limits, MessageView, compile_script
from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.runtime import Runtime
from ecelerity.policy.vctx import ValidationContext
from tests.unit.policy.sieve.codegen_diff import snapshot

TIGHT = Limits(max_variable_size=24, max_variables=3)
FUSED = [
    # (script body, what the reference run leaves in variable "hit")
    ('$v = vctx_conn_get "ehlo_domain"; if ec_test :is $v "CLIENT.example" { set "hit" "1"; }', "1"),
    ('$v = "abcdefghijklmnopqrstuvwxyz0123"; if ec_test :is $v "abcdefghijklmnopqrstuvwxyz0123" '
     '{ set "hit" "1"; } else { set "hit" "truncated"; }', "truncated"),
    ('$v = split "," "a,b"; if ec_test :is $v "b" { set "hit" "1"; }', "1"),
    ('global "v"; $v = "x"; if ec_test :is $v "x" { set "hit" "1"; }', "1"),
    ('$a = "1"; $b = "2"; $v = "x"; if ec_test :is $v "x" { set "hit" "1"; }', None),  # too many
    ('$v = ec_throttle_check "peer"; if ec_test :is $v "false" { set "hit" "1"; }', "1"),
    ('$v = vctx_mess_get "missing"; if ec_test :is $v "" { set "hit" "1"; }', "1"),
    ('$v = vctx_conn_get "ehlo_domain"; if ec_test :matches $v "*.example" { set "hit" "${1}"; }',
     "client"),
]


@pytest.mark.parametrize("body,hit", FUSED)
def test_assign_then_test_matches_the_closure_tree(body, hit):
    script = compile_script('require ["variables", "regex", "include"];\n' + body + "\n", "fused.siv", limits=TIGHT)
    assert script.generated and "if fast else" in script.run.sieve_source, script.run.sieve_source
    got, want = (snapshot(runner, b"Subject: s\r\n\r\nb\r\n", "a@b.example", "c@d.example", TIGHT)
                 for runner in (script.run, script.run_reference))
    assert got == want
    assert got["variables"].get("hit", got["globals"].get("hit")) == hit, got


def test_fused_test_is_not_used_after_a_branch_assignment():
    # the assignment inside the if may not run: the later test must read the variable
    text = ('require "variables";\n$v = "old";\n'
            'if false { $v = "new"; }\nif ec_test :is $v "old" { set "hit" "1"; }\n')
    script = compile_script(text, "branch.siv")
    got, want = (snapshot(runner, b"\r\n", "", "") for runner in (script.run, script.run_reference))
    assert got == want and got["variables"]["hit"] == "1"


def run_generated(text: str, host: PolicyHost | None) -> Runtime:
    script = compile_script(text, "inline.siv")
    assert script.generated
    rt = Runtime(MessageView(b"X-Score: 7\r\n\r\nb\r\n"), host=host)
    script.run(rt)
    return rt


def test_throttle_check_inline_follows_the_cache():
    text = ('ec_throttle_create "t" "1/60";\n$a = ec_throttle_check "t";\nec_throttle_inc "t";\n'
            'ec_throttle_inc "t";\n$b = ec_throttle_check "t";\n$c = ec_throttle_check "nope";\n')
    source = compile_script(text, "t.siv").run.sieve_source
    assert ".over('t')" in source and "_tc.create('t', '1/60')" in source and "_tc.add('t', 1)" in source
    host = PolicyHost(ValidationContext(), throttles=ThrottleCache(), can_sleep=False)
    assert run_generated(text, host).scope.variables == {"a": "false", "b": "true", "c": "false"}
    # no cache on the host yet: the closure creates it, as the reference does
    bare = PolicyHost(ValidationContext(), can_sleep=False)
    assert run_generated(text, bare).scope.variables == {"a": "false", "b": "true", "c": "false"}
    assert bare.throttles is not None


def test_vctx_read_inline_and_without_host():
    text = 'require "variables";\n$v = vctx_conn_get "ehlo_domain";\n$w = vctx_mess_get "k";\n'
    assert "_hv.vctx.conn.get('ehlo_domain')" in compile_script(text, "v.siv").run.sieve_source
    vctx = ValidationContext(conn={"ehlo_domain": "Mx.Example"}, mess={"k": ""})
    host = PolicyHost(vctx, can_sleep=False)
    assert run_generated(text, host).scope.variables == {"v": "Mx.Example", "w": ""}
    script = compile_script(text, "v.siv")
    errors = []
    for runner in (script.run, script.run_reference):
        with pytest.raises(Exception) as info:
            runner(Runtime(MessageView(b"\r\n"), host=None))
        errors.append(str(info.value))
    assert errors[0] == errors[1] and "v.siv:2" in errors[0]


@pytest.mark.parametrize("value", ["7", "007", "12", "7 a", "", "abc", "\u0661\u0662", "99999999999999999999"])
@pytest.mark.parametrize("relation", ["gt", "ge", "lt", "le", "eq", "ne"])
def test_numeric_value_inline_matches_the_closure_tree(value, relation):
    text = (f'require ["relational", "comparator-i;ascii-numeric", "variables"];\n'
            f'if header :value "{relation}" :comparator "i;ascii-numeric" "X-Score" ["10", "x"] '
            f'{{ set "hit" "1"; }}\n')
    script = compile_script(text, "num.siv")
    assert "_numeric_value" in script.run.sieve_source
    raw = f"X-Score: {value}\r\n\r\nb\r\n".encode()
    got, want = (snapshot(runner, raw, "", "") for runner in (script.run, script.run_reference))
    assert got == want


def test_a_bad_constant_rate_is_not_inlined_and_fails_where_it_is():
    text = 'ec_throttle_create "t" "fast";\n'
    script = compile_script(text, "bad.siv")
    assert "_tc.create" not in script.run.sieve_source
    got, want = (snapshot(runner, b"\r\n", "", "") for runner in (script.run, script.run_reference))
    assert got == want and got["ended"][0] == "runtime" and "bad.siv:1" in got["ended"][1], got["ended"]
