"""Sieve++ data helpers (ext_momentum_data.py): hashes, maths, strings, type tests."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.policy.sieve import MessageView, compile_script
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.phase_runner import PhaseScripts, run_phase
from ecelerity.policy.vctx import ValidationContext

MSG = b"From: a@b.org\r\nSubject: Hello\r\n\r\nbody\r\n"


def run(src: str):
    vctx = ValidationContext()
    logged: list[str] = []
    host = PolicyHost(vctx, phase="data", can_sleep=False, log=logged.append)
    result = run_phase(PhaseScripts("data", compile_script(src, "d.siv")), host, MessageView(MSG))
    return result, vctx, logged


def test_hash_create_set_get_keys_values_and_dump():
    result, vctx, logged = run('''
        hash_create "h";
        hash_set "h" "b" "2"; hash_set "h" "a" "1"; hash_set "h" "b" "3";
        $v = hash_get "h" "b";  $missing = hash_get "h" "zzz";
        $keys = hash_keys "h";  $values = hash_values "h";
        vctx_mess_set "v" "${v}|${missing}|${keys}|${values}";
        hash_dump "h";''')
    assert not result.errors
    assert vctx.mess["v"] == "3||b, a|3, 1"
    assert logged == ["hash h: b=3, a=1"]


def test_hash_create_again_empties_it_and_an_unknown_hash_is_a_runtime_error():
    _, vctx, _ = run('hash_create "h"; hash_set "h" "k" "v"; hash_create "h"; '
                     '$k = hash_keys "h"; vctx_mess_set "k" "[${k}]";')
    assert vctx.mess["k"] == "[]"
    result, _, _ = run('$x = hash_get "nope" "k";')
    assert result.errors and "no hash named 'nope'" in result.errors[0]
    assert "d.siv:1:6" in result.errors[0]


@pytest.mark.parametrize("expr,expected", [
    ('ec_mod 7 3', "1"), ('ec_mod "-7" 3', "-1"), ('ec_round "2.5"', "3"), ('ec_round "-2.5"', "-3"),
    ('ec_round "2.4"', "2"), ('ec_nearbyint "2.5"', "2"), ('ec_nearbyint "3.5"', "4"),
    ('reverse_delim "." "1.2.3.4"', "4.3.2.1"), ('reverse_delim "" "abc"', "cba"),
    ('ec_get_message_num_retries', "0"), ('type "x"', "string"), ('type ["a", "b"]', "stringlist"),
])
def test_value_functions(expr, expected):
    _, vctx, _ = run(f'$r = {expr}; vctx_mess_set "r" $r;')
    assert vctx.mess["r"] == expected


def test_type_of_a_list_variable_and_is_true():
    _, vctx, _ = run('''$l = split "," "a,b"; $t = type $l; $s = "true";
        if is_true $s { vctx_mess_set "yes" "1"; }
        if is_true "nope" { vctx_mess_set "no" "1"; }
        vctx_mess_set "t" $t;''')
    assert vctx.mess == {"t": "stringlist", "yes": "1"}


def test_ec_mod_by_zero_is_a_located_runtime_error():
    result, _, _ = run('$x = ec_mod 1 0;')
    assert "'ec_mod': division by zero" in result.errors[0]


def test_mime_boundary_rfc2047_and_dsn_fields():
    _, vctx, _ = run('''$b1 = ec_mime_boundary_create; $b2 = ec_mime_boundary_create;
        vctx_mess_set "b" "${b1} ${b2}";
        $h = ec_rfc2047_encode_header "Grüße";  vctx_mess_set "h" $h;
        $a = ec_rfc2047_encode_addresses ["Jöhn <j@x.org>", "plain@y.org"]; vctx_mess_set "a" $a;
        $d = ec_rfc3464_delivery_status "r@x.org" "failed" "5.1.1" "550 no such user";
        vctx_mess_set "d" $d;''')
    b1, b2 = vctx.mess["b"].split(" ")
    assert b1 != b2 and b1.startswith("----=_ec_")
    assert vctx.mess["h"].startswith("=?utf-8?") and "Grüße" not in vctx.mess["h"]
    assert vctx.mess["a"].endswith("<j@x.org>, plain@y.org") and vctx.mess["a"].startswith("=?utf-8?")
    assert vctx.mess["d"] == ("Final-Recipient: rfc822; r@x.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                              "Diagnostic-Code: smtp; 550 no such user\r\n")


def test_ec_interfaces_lists_loopback():
    _, vctx, _ = run('$i = ec_interfaces; vctx_mess_set "i" $i;')
    assert "lo" in vctx.mess["i"].split(", ")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abc.", max_size=6), min_size=1, max_size=5))
def test_reverse_delim_reverses_the_parts(parts):
    text = ".".join(parts)
    _, vctx, _ = run(f'$r = reverse_delim "." "{text}"; vctx_mess_set "r" $r;')
    assert vctx.mess["r"] == ".".join(reversed(text.split(".")))
