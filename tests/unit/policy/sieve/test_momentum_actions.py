"""Sieve++ actions against a real ValidationContext: dispositions, vctx, headers, binding."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.loader import load_config_text
from ecelerity.policy.sieve import MessageView, SieveCompileError, compile_script
from ecelerity.policy.sieve.ext_momentum_actions import valid_header_name
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.phase_runner import PhaseScripts, run_phase
from ecelerity.policy.vctx import ValidationContext

MSG = b"From: a@b.org\r\nSubject: Hello there\r\nX-Old: one\r\n\r\nbody\r\n"


def run(src: str, phase: str = "data", *, config=None, phase2: str | None = None, raw: bytes = MSG):
    vctx = ValidationContext()
    host = PolicyHost(vctx, phase=phase, config=config, can_sleep=False)
    scripts = PhaseScripts(phase, compile_script(src, "p1.siv"),
                           compile_script(phase2, "p2.siv") if phase2 else None)
    view = MessageView(raw, "a@b.org", "x@example.com")
    return run_phase(scripts, host, view), vctx, host, view


def test_ec_action_sets_code_and_ends_the_script():
    result, vctx, host, _ = run('ec_action 550 "5.7.1 no thanks" "rule1"; vctx_conn_set "after" "1";')
    assert result.reply == (550, "5.7.1 no thanks") and not result.disconnect
    assert "after" not in vctx.conn
    assert host.counters.get("data_phase1:rule1 (5xx)") == 1


def test_ec_action_counter_defaults_to_file_and_line():
    _, _, host, _ = run('\n\nec_action 451 "4.7.1 later";')
    assert host.counters.get("data_phase1:p1.siv:3 (4xx)") == 1


def test_ec_disconnect_asks_for_a_disconnect():
    result, _, _, _ = run('ec_disconnect 421 "4.7.0 bye";')
    assert result.reply == (421, "4.7.0 bye") and result.disconnect


def test_phase2_runs_only_without_a_terminal_action_in_phase1():
    result, vctx, _, _ = run('vctx_mess_set "p1" "yes";', phase2='ec_action 554 "5.7.1 p2";')
    assert result.reply == (554, "5.7.1 p2") and vctx.mess["p1"] == "yes"
    result, vctx, _, _ = run('ec_action 250 "2.0.0 fine";', phase2='vctx_mess_set "p2" "ran";')
    assert result.reply == (250, "2.0.0 fine") and "p2" not in vctx.mess


def test_standard_reject_gets_550_with_an_enhanced_code_and_keep_is_no_opinion():
    result, _, _, _ = run('require "reject"; reject "not here";')
    assert result.reply == (550, "5.7.1 not here")
    result, _, _, _ = run('keep;', phase2='ec_action 550 "5.7.1 never";')
    assert result.reply is None and result.outcome.kind == "keep"


def test_vctx_set_get_delete_and_macros():
    src = '''vctx_conn_set "k" "v1";
             vctx_mess_set "m" "%{vctx_conn:k}-x";
             $got = vctx_mess_get "m";
             vctx_conn_set "copy" $got;
             vctx_conn_delete "k";'''
    _, vctx, _, _ = run(src)
    assert vctx.mess["m"] == "v1-x" and vctx.conn["copy"] == "v1-x" and "k" not in vctx.conn


def test_header_edits_are_queued_on_the_vctx_and_visible_to_later_reads():
    src = '''ec_header_add "X-New" "added";
             ec_header_prefix "Subject" "[tag] ";
             ec_header_postfix "X-Old" " two";
             ec_header_delete "From";
             $s = ec_header_get "Subject";
             vctx_mess_set "subject" $s;'''
    _, vctx, _, view = run(src)
    assert [(e.mode, e.name, e.value) for e in vctx.header_edits] == [
        ("prepend", "X-New", "added"), ("replace", "Subject", "[tag] Hello there"),
        ("replace", "X-Old", "one two"), ("delete", "From", None)]
    assert vctx.mess["subject"] == "[tag] Hello there"
    assert view.headers("From") == [] and view.header_names()[0] == "X-New"


def test_invalid_header_name_is_a_runtime_error_with_location():
    result, _, _, _ = run('\nec_header_add "Bad Name" "x";')
    assert result.reply == (451, "4.3.0 policy script error, try again later")
    assert "p1.siv:2:1" in result.errors[0]


def test_set_binding_only_in_set_binding_phase_and_only_known_bindings():
    cfg = load_config_text('binding "b1" { }\nbinding_group "g" { binding "b3" { } }\n')
    logged = []
    vctx = ValidationContext()
    host = PolicyHost(vctx, phase="set_binding", config=cfg, can_sleep=False, log=logged.append)
    view = MessageView(MSG)
    run_phase(PhaseScripts("set_binding", compile_script('ec_set_binding "nope"; ec_set_binding "b1";'
                                                         'ec_set_binding_group "g";')), host, view)
    assert (vctx.binding, vctx.binding_group) == ("b1", "g")
    assert any("unknown binding 'nope'" in line for line in logged)
    result, vctx, _, _ = run('ec_set_binding "b1";', phase="data", config=cfg)
    assert vctx.binding is None and "only valid in the set_binding phase" in result.errors[0]


def test_tarpit_is_recorded_without_sleeping_offline():
    _, vctx, host, _ = run('ec_tarpit 3 "slow"; ec_tarpit "1.5";')
    assert vctx.tarpitted_seconds == 4.5 and host.notes[:2] == ["tarpit 3s", "tarpit 1.5s"]


def test_add_recipient_and_discard():
    result, vctx, _, _ = run('add_recipient "archive@example.com"; ec_discard;')
    assert [r.address for r in vctx.recipients] == ["archive@example.com"]
    assert result.outcome.kind == "discard" and result.reply is None


def test_runtime_error_continue_ignores_the_failure():
    vctx = ValidationContext()
    host = PolicyHost(vctx, phase="data", can_sleep=False)
    scripts = PhaseScripts("data", compile_script('ec_action "abc" "x";'),
                           compile_script('vctx_conn_set "p2" "ran";'))
    result = run_phase(scripts, host, MessageView(MSG), runtime_error="continue")
    assert result.reply is None and vctx.conn["p2"] == "ran" and result.errors


@pytest.mark.parametrize("src, where", [
    ('ec_action 550;', "1:1"), ('$x = no_such_function 1;', "1:6"), ('$x = ;', "1:6"),
    ('ec_action :tag 550 "x";', "1:11"),
])
def test_bad_sieve_plus_plus_fails_to_compile_with_location(src, where):
    with pytest.raises(SieveCompileError) as err:
        compile_script(src, "bad.siv")
    assert f"bad.siv:{where}" in str(err.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=6))
def test_header_name_check_is_printable_ascii_without_space_or_colon(name):
    expected = bool(name) and not any(ord(c) <= 32 or ord(c) >= 127 or c == ":" for c in name)
    assert valid_header_name(name) == expected
