"""Sieve++ value functions, ``$var`` assignment, ``ec_test`` and the list of functions."""
from __future__ import annotations

import base64
import json
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.policy.sieve import MessageView, compile_script, run_script
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.vctx import ValidationContext

MSG = (b"From: a@b.org\r\nTo: x@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
       b"Received: one\r\nReceived: two\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n"
       b"hi\r\n--XX\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--XX--\r\n")


def values(src: str, raw: bytes = MSG, **host_fields) -> dict[str, str]:
    """Run src and return the vctx mess dict (scripts store results with vctx_mess_set)."""
    vctx = ValidationContext()
    host = PolicyHost(vctx, can_sleep=False, **host_fields)
    result = run_script(compile_script(src, "f.siv"), MessageView(raw, "a@b.org", "x@example.com"),
                        host=host)
    assert result.error is None, result.message
    return vctx.mess


def test_maths_helpers():
    got = values('''$a = ec_add 2 3; $s = ec_sub "10" 4; $m = ec_mul "2.5" 2; $d = ec_div 7 2;
                    $t = ec_trunc "-3.7"; $f = ec_floor "-3.2"; $c = ec_ceil "3.2";
                    vctx_mess_set "r" "${a} ${s} ${m} ${d} ${t} ${f} ${c}";''')
    assert got["r"] == "5 6 5 3.5 -3 -4 4"


def test_division_by_zero_is_a_runtime_error():
    result = run_script(compile_script('$x = ec_div 1 0;', "z.siv"), MessageView(MSG))
    assert result.error == "runtime" and "z.siv:1:6" in result.message


def test_string_and_list_helpers():
    got = values('''$parts = split "," "a,b,c"; $rev = reverse $parts; $j = join "-" $rev;
                    $low = ec_tolower "MiXeD"; vctx_mess_set "r" "${j} ${low}";
                    $n = ec_rand 5; vctx_mess_set "n" $n;''')
    assert got["r"] == "c-b-a mixed" and 0 <= int(got["n"]) < 5


def test_headers_message_facts_and_mime():
    got = values('''$r = ec_header_get "received"; $c = join "|" $r; vctx_mess_set "rec" $c;
                    $s = ec_header_get "Subject"; vctx_mess_set "subj" $s;
                    $p = ec_mime_parts; vctx_mess_set "parts" $p;
                    $v = ec_valid_mime; vctx_mess_set "valid" $v;
                    $z = ec_get_message_size; vctx_mess_set "size" $z;
                    $f = ec_get_message_mailfrom; vctx_mess_set "from" $f;
                    $t = ec_get_message_rcptto; vctx_mess_set "to" $t;
                    $i = ec_get_message_received_from; vctx_mess_set "ip" $i;''',
                 peer_ip="192.0.2.7")
    assert got["rec"] == "one|two" and got["subj"] == "café"
    assert (got["parts"], got["valid"], got["size"]) == ("2", "true", str(len(MSG)))
    assert (got["from"], got["to"], got["ip"]) == ("a@b.org", "x@example.com", "192.0.2.7")


def test_ec_test_on_lists_and_captures_from_ec_pcre_match():
    got = values('''require ["relational", "comparator-i;ascii-numeric"];
                    $r = ec_header_get "Received";
                    if ec_test :is $r "two" { vctx_mess_set "hit" "yes"; }
                    if ec_test :count "eq" :comparator "i;ascii-numeric" $r "2" { vctx_mess_set "n" "2"; }
                    $m = ec_pcre_match "user+tag@example.com" "^([^+]+)\\\\+(\\\\w+)@";
                    vctx_mess_set "m" "${m} ${1} ${2}";''')
    assert got == {"hit": "yes", "n": "2", "m": "true user tag"}


def test_catastrophic_ec_pcre_match_is_bounded():
    src = '$x = ec_pcre_match "' + "a" * 3000 + '!" "(a+)+$";'
    result = run_script(compile_script(src, "h.siv"), MessageView(MSG))
    assert result.error == "runtime" and "time budget" in result.message and "h.siv:1:6" in result.message


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\$%'),
               max_size=40))
def test_codecs_round_trip(text):
    got = values(f'''$b = ec_base64_encode "{text}"; $d = ec_base64_decode $b; vctx_mess_set "b" $b;
                     vctx_mess_set "d" $d; $e = ec_rfc2047_encode "{text}"; $r = ec_rfc2047_decode $e;
                     vctx_mess_set "r" $r;''')
    assert got["b"] == base64.b64encode(text.encode()).decode()
    assert got["d"] == text and got["r"] == text


def test_config_and_binding_lookups():
    from ecelerity.config.loader import load_config_text
    cfg = load_config_text('binding "b1" { }\nmax_outbound_connections = 77\n')
    got = values('''$c = ec_config "max_outbound_connections"; $y = ec_valid_binding "b1";
                    $n = ec_valid_binding "b9"; vctx_mess_set "r" "${c} ${y} ${n}";''', config=cfg)
    assert got["r"] == "77 true false"


def test_ec_include_runs_another_script_and_bounds_recursion(tmp_path):
    inc = tmp_path / "inc.siv"
    inc.write_text('vctx_mess_set "included" "yes";')
    assert values(f'ec_include "{inc}";')["included"] == "yes"
    loop = tmp_path / "loop.siv"
    loop.write_text(f'ec_include "{loop}";')
    result = run_script(compile_script(loop.read_text(), str(loop)), MessageView(MSG))
    assert result.error == "runtime" and "too deep" in result.message


def test_list_functions_cli_prints_sieve_plus_plus_names():
    out = subprocess.run([sys.executable, "-m", "ecelerity.policy.sieve", "--list-functions"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    for line in ("function ec_header_get", "command ec_action", "function ec_throttle_check",
                 "test ec_test", "command keep", "test header"):
        assert line in out


def test_offline_tester_runs_sieve_plus_plus_scripts(tmp_path):
    script, msg = tmp_path / "s.siv", tmp_path / "m.eml"
    script.write_text('ec_header_add "X-A" "1"; discard;')
    msg.write_bytes(MSG)
    out = subprocess.run([sys.executable, "-m", "ecelerity.policy.sieve", "test", str(script), str(msg),
                          "--json"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"error": None, "actions": [{"action": "discard"}]}


def test_vctx_get_with_constant_and_computed_keys_and_ec_test_on_plain_variables():
    vctx = ValidationContext(conn={"ehlo_domain": "Bad.example", "k2": "v2"})
    host = PolicyHost(vctx, can_sleep=False)
    src = '''$e = vctx_conn_get "ehlo_domain"; $n = "k2"; $v = vctx_conn_get "${n}";
             $missing = vctx_conn_get "nope";
             if ec_test :is $e "bad.example" { vctx_mess_set "ehlo" "matched"; }
             if ec_test :is $v "v2" { vctx_mess_set "computed" "yes"; }
             if ec_test :is $missing "" { vctx_mess_set "empty" "yes"; }
             if ec_test :is $never_set "" { vctx_mess_set "unset" "yes"; }
             $l = split "," "a,b"; if ec_test :is $l "b" { vctx_mess_set "list" "yes"; }'''
    result = run_script(compile_script(src, "f.siv"), MessageView(MSG), host=host)
    assert result.error is None, result.message
    assert vctx.mess == {"ehlo": "matched", "computed": "yes", "empty": "yes", "unset": "yes", "list": "yes"}
    detached = run_script(compile_script('$e = vctx_conn_get "x";', "f.siv"), MessageView(MSG), host=None)
    assert detached.error is None  # offline: a fresh vctx, empty value
