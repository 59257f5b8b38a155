"""Hook registry and phase runner: policy/phases.py, with the vctx of policy/vctx.py."""
from __future__ import annotations

import time

import gevent
import pytest

from ecelerity.policy.phases import (CONTINUE, DONE, PHASES, PRIORITY_CORE, PRIORITY_LUA,
                                     PRIORITY_MODULE, PRIORITY_SIEVE, HookRegistry)
from ecelerity.policy.vctx import VCTX_CONN, VCTX_MESS, ValidationContext


def test_phase_list_is_momentums_order():
    assert PHASES == ("connect", "ehlo", "auth", "mailfrom", "rcptto", "rcptto_list", "data", "data_spool",
                      "data_spool_each_rcpt", "set_binding")


def test_hooks_run_by_priority_then_registration_order():
    reg, seen = HookRegistry(), []
    for name, prio in [("lua", PRIORITY_LUA), ("mod1", PRIORITY_MODULE), ("core", PRIORITY_CORE),
                       ("sieve", PRIORITY_SIEVE), ("mod2", PRIORITY_MODULE)]:
        reg.register("ehlo", lambda v, s, n=name: seen.append(n), priority=prio, name=name)
    result = reg.run("ehlo", ValidationContext(), "host")
    assert seen == ["core", "mod1", "mod2", "sieve", "lua"]
    assert not result.done and result.reply is None


def test_done_stops_the_phase_with_the_code():
    reg, seen = HookRegistry(), []

    def reject(vctx, s):
        vctx.set_code(550, "5.7.1 no")
        return DONE
    reg.register("mailfrom", reject)
    reg.register("mailfrom", lambda v, s: seen.append("later"))
    result = reg.run("mailfrom", ValidationContext(), "MAIL FROM:<a@b>")
    assert result.done and str(result.reply) == "550 5.7.1 no" and seen == []
    assert result.rejected


def test_failing_hook_becomes_451_and_disconnect_is_reported():
    reg = HookRegistry()
    reg.register("connect", lambda v: 1 / 0)
    assert reg.run("connect", ValidationContext()).reply.code == 451
    reg2 = HookRegistry()
    reg2.register("connect", lambda v: v.disconnect(421, "4.7.0 Go away"))
    result = reg2.run("connect", ValidationContext())
    assert str(result.disconnect) == "421 4.7.0 Go away" and result.done


def test_a_chain_changed_mid_run_takes_effect_at_the_next_run():
    reg, ran = HookRegistry(), []
    late = None

    def first(vctx):
        ran.append("first")
        reg.unregister(late)  # a reload in the middle of a phase
        reg.register("connect", lambda v: ran.append("added") or CONTINUE, name="added")
        return CONTINUE
    reg.register("connect", first)
    late = reg.register("connect", lambda v: ran.append("late") or CONTINUE)
    reg.run("connect", ValidationContext())
    assert ran == ["first", "late"]  # the chain as it was when the phase started
    ran.clear()
    reg.unregister(reg.hooks("connect")[0])
    reg.run("connect", ValidationContext())
    assert ran == ["added"] and [h.name for h in reg.hooks("connect")] == ["added"]


def test_unknown_phase_refused_and_unregister():
    reg = HookRegistry()
    with pytest.raises(ValueError, match="unknown validation phase"):
        reg.register("mail_from", lambda v: CONTINUE)
    hook = reg.register("data", lambda v, m: CONTINUE)
    reg.unregister(hook)
    assert not reg.has_hooks("data")


def test_vctx_context_recipients_headers_binding():
    vctx = ValidationContext()
    vctx.set(VCTX_CONN, "k", 1)
    vctx.set(VCTX_MESS, "m", "v")
    assert (vctx.get(VCTX_CONN, "k"), vctx.get(VCTX_MESS, "m")) == ("1", "v")
    with pytest.raises(ValueError):
        vctx.get("other", "k")
    vctx.add_recipient("a@b")
    vctx.add_recipient("c@d")
    assert vctx.remove_recipient("a@b") and vctx.recipient_list() == ["c@d"]
    vctx.header_add("X-A", "1")
    vctx.header_delete("X-B")
    with pytest.raises(ValueError):
        vctx.header_add("X-C", "1", mode="sideways")
    vctx.set_binding("b1")
    vctx.reset_message()
    assert vctx.mess == {} and vctx.recipients == [] and vctx.header_edits == [] and vctx.binding is None
    assert vctx.get(VCTX_CONN, "k") == "1"


def test_tarpit_sleeps_only_the_calling_greenlet():
    vctx = ValidationContext()
    ticks = []
    other = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.02)) for _ in range(5)])
    start = time.monotonic()
    vctx.tarpit(0.2)
    assert time.monotonic() - start >= 0.19 and len(ticks) == 5  # the hub kept running others
    other.join()
    no_tarpit = ValidationContext(can_tarpit=False)
    with pytest.raises(RuntimeError):
        no_tarpit.tarpit(1)


def test_a_phase_without_hooks_still_hands_over_a_code_already_set():
    reg, vctx = HookRegistry(), ValidationContext()
    assert reg.run("rcptto_list", vctx, []).reply is None
    vctx.set_code(452, "4.5.3 too many recipients")  # e.g. set before the phase ran
    result = reg.run("rcptto_list", vctx, [])
    assert str(result.reply) == "452 4.5.3 too many recipients" and not result.done
    assert vctx.code is None  # taken: the next phase starts clean
    assert reg.run("rcptto_list", vctx, []).reply is None


def test_odd_verdicts_continue_and_a_disconnect_keeps_the_hooks_own_code(caplog):
    reg, seen = HookRegistry(), []
    reg.register("ehlo", lambda v, s: "bogus", name="odd")
    reg.register("ehlo", lambda v, s: seen.append("next") or CONTINUE)
    assert not reg.run("ehlo", ValidationContext(), "h").done and seen == ["next"]
    assert "returned 'bogus'" in caplog.text

    def leave(vctx, s):
        vctx.set_code(554, "5.7.1 bye now")
        vctx.disconnect(421, "4.7.0 closing")
    reg2 = HookRegistry()
    reg2.register("ehlo", leave)
    reg2.register("ehlo", lambda v, s: seen.append("never"))
    result = reg2.run("ehlo", ValidationContext(), "h")
    assert str(result.reply) == "554 5.7.1 bye now" and str(result.disconnect) == "421 4.7.0 closing"
    assert result.done and seen == ["next"]


def test_vctx_set_stores_text_and_refuses_an_unknown_scope():
    vctx = ValidationContext()
    vctx.set(VCTX_MESS, "none", None)
    vctx.set(VCTX_MESS, "num", 42)
    vctx.set(VCTX_CONN, "text", "t")
    assert vctx.mess == {"none": "", "num": "42"} and vctx.conn == {"text": "t"}
    assert vctx.get(VCTX_MESS, "absent", "dflt") == "dflt" and vctx.get(VCTX_CONN, "num") is None
    with pytest.raises(ValueError, match="vctx type must be"):
        vctx.set("global", "k", "v")
    assert vctx.mess == {"none": "", "num": "42"}
