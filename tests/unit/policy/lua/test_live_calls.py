"""live_calls.PhaseCaller: the daemon's hook path into Lua, through a real HookRegistry.

One msg proxy per message (rcptto to set_binding), a new one per message; edits
committed into the InboundMessage; msg:code / failures applied to the vctx; modules
registered later are seen; nothing keeps a finished session's vctx alive."""
from __future__ import annotations

import gc
import weakref

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.policy.lua.lib_inject import bindings_of
from ecelerity.policy.lua.live_calls import PhaseCaller
from ecelerity.policy.phases import HookRegistry
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

from .conftest import values

RAW = b"From: a@b.example\r\nSubject: hello\r\n\r\nbody\r\n"
SCRIPT = r"""
local mod = {}
seen = {}
function mod:validate_connect(ac, vctx) seen.vctx = vctx return msys.core.VALIDATE_CONT end
function mod:validate_rcptto(msg, str, ac, vctx)
  seen.rcpt_msg = msg
  seen.same_vctx = rawequal(vctx, seen.vctx)
  return msys.core.VALIDATE_CONT
end
function mod:validate_data(msg, ac, vctx)
  seen.same_msg = rawequal(msg, seen.rcpt_msg)
  msg:header("X-Data", "1")
  if msg:header("Subject")[1] == "reject me" then msg:code(550, "5.7.1 no") end
  return msys.core.VALIDATE_CONT
end
function mod:validate_data_spool(msg, ac, vctx)
  seen.data_header = msg:header("X-Data")[1]
  seen.trace = msg:header("Received")[1]
  if msg:header("Subject")[1] == "explode" then error("boom") end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("probe", mod)
"""


def setup(rt, script: str = SCRIPT):
    rt.env = rt.load_source(script, "probe")
    caller = PhaseCaller(rt, bindings_of(rt), lambda peer_ip: 3)
    hooks = HookRegistry()
    for phase in ("connect", "rcptto", "data", "data_spool"):
        hooks.register(phase, lambda vctx, *args, phase=phase:
                       caller.run(phase, f"validate_{phase}", vctx, args))
    return caller, hooks


def message(raw: bytes = RAW) -> InboundMessage:
    return InboundMessage(Envelope(mail_from="a@b.example", recipients=[Recipient("c@d.example")]),
                          "00/00-1-A", split_message(raw))


def one_message(hooks: HookRegistry, vctx: ValidationContext, raw: bytes = RAW):
    vctx.reset_message()
    hooks.run("rcptto", vctx, "RCPT TO:<c@d.example>", Recipient("c@d.example"))
    inbound = message(raw)
    data = hooks.run("data", vctx, inbound)
    inbound.trace = b"Received: from c.example by mx.example\r\n"
    spool = hooks.run("data_spool", vctx, inbound)
    return inbound, data, spool


def lua_global(rt, name: bytes):
    return rt.env[b"seen"][name]


def test_one_msg_per_message_and_one_vctx_per_session(rt):
    caller, hooks = setup(rt)
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    hooks.run("connect", vctx)
    inbound, data, spool = one_message(hooks, vctx)
    assert lua_global(rt, b"same_vctx") is True and lua_global(rt, b"same_msg") is True
    assert data.reply is None and spool.reply is None
    assert lua_global(rt, b"data_header") == b"1"  # committed, then read back next phase
    assert lua_global(rt, b"trace") == b"from c.example by mx.example"
    assert inbound.data().endswith(b"Subject: hello\r\nX-Data: 1\r\n\r\nbody\r\n")
    first = lua_global(rt, b"rcpt_msg")
    one_message(hooks, vctx)
    assert lua_global(rt, b"same_msg") is True
    assert first != lua_global(rt, b"rcpt_msg")  # a new message, a new msg
    assert caller.calls == 7 and caller.failures == 0  # connect + 2 x (rcptto, data, data_spool)


def test_msg_code_and_script_failures_reach_the_vctx(rt):
    caller, hooks = setup(rt)
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    _inbound, data, _spool = one_message(hooks, vctx, RAW.replace(b"hello", b"reject me"))
    assert (data.reply.code, data.reply.enhanced) == (550, "5.7.1")
    _inbound, data, spool = one_message(hooks, vctx, RAW.replace(b"hello", b"explode"))
    assert data.reply is None and (spool.reply.code, spool.reply.enhanced) == (451, "4.3.0")
    assert caller.failures == 1 and any("boom" in text for _m, text in rt.logged)
    _inbound, _data, spool = one_message(hooks, vctx)  # the next message is served
    assert spool.reply is None and caller.failures == 1


def test_a_module_registered_later_joins_the_prepared_chain(rt):
    _caller, hooks = setup(rt)
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    one_message(hooks, vctx)
    rt.load_source(r"""
        local late = {}
        function late:validate_data(msg, ac, vctx)
          vctx:set_code(451, "4.7.1 later") return msys.core.VALIDATE_DONE
        end
        msys.registerModule("late", late)""", "late")
    _inbound, data, _spool = one_message(hooks, vctx)
    assert (data.reply.code, data.reply.text) == (451, "later")


def test_a_finished_session_leaves_nothing_alive(rt):
    _caller, hooks = setup(rt)
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    hooks.run("connect", vctx)
    inbound, _data, _spool = one_message(hooks, vctx)
    gone_vctx, gone_message = weakref.ref(vctx), weakref.ref(inbound)
    rt.env[b"seen"] = rt.table()  # the script let go of its proxies
    del vctx, inbound
    gc.collect()
    assert gone_vctx() is None
    assert gone_message() is None  # at once: Lua's collector need not run first


def test_proxies_kept_past_their_session_fail_cleanly_and_hold_nothing(rt):
    """The session's and the message's proxies stand for hold() numbers: released with
    the session / message, after which a kept proxy raises a plain, catchable error."""
    _caller, hooks = setup(rt)
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    hooks.run("connect", vctx)
    one_message(hooks, vctx)
    assert len(rt.sandbox.handles) == 2  # the session's (vctx and ac), this message's msg
    kept_msg = lua_global(rt, b"rcpt_msg")
    vctx.reset_message()
    assert len(rt.sandbox.handles) == 1  # the message's number went with it
    del vctx
    gc.collect()
    assert rt.sandbox.handles == {}
    probe = rt.load_source(r"""
        function after(vctx, msg)
          local ok_v, err_v = pcall(vctx.get, vctx, "conn", "peer_ip")
          local ok_m, err_m = pcall(msg.header, msg, "Subject")
          return ok_v, type(err_v), err_v, ok_m, err_m
        end""", "after")
    got = values(rt.call(probe[b"after"], lua_global(rt, b"vctx"), kept_msg))
    assert got[:2] == (False, b"string") and got[3] is False
    assert b"validate_context:get: the object is gone" in got[2]
    assert b"ec_message:header: the object is gone" in got[4]


def test_vctx_and_ac_share_a_number_but_reach_only_their_own_methods(rt):
    """One hold() number stands behind a session's vctx and ac proxies; each proxy still
    offers only its own class's methods (no ac method through vctx, no vctx one through ac)."""
    rt.env = rt.load_source(r"""
        local mod = {}
        function mod:validate_connect(ac, vctx)
          crossed = {vctx.esmtp_capability_add, ac.get, ac.set_code}
          ac:esmtp_capability_add("XPROBE")
          vctx:set(msys.core.VCTX_CONN, "seen", "yes")
          return msys.core.VALIDATE_CONT
        end
        msys.registerModule("cross", mod)""", "cross")
    caller = PhaseCaller(rt, bindings_of(rt), lambda peer_ip: 3)
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    assert caller.run("connect", "validate_connect", vctx, ()) == 0 and caller.failures == 0
    assert list(rt.env[b"crossed"].items()) == []  # all three are nil
    assert vctx.capability_edits == [("add", "XPROBE")] and vctx.conn["seen"] == "yes"


def test_every_kind_of_failure_in_the_hook_path_is_the_error_reply(rt):
    """The resume inlined in PhaseCaller.hook fails like LuaRuntime.invoke: a script
    error, the instruction budget, a stray coroutine.yield -- each logged and answered
    with error_reply; a worker whose call did not end cleanly (the yield) is dropped, the
    others go back to the idle list; the next call works."""
    from ecelerity.policy.lua.sandbox import Limits
    from ecelerity.policy.lua import LuaRuntime
    logged: list[str] = []
    small = LuaRuntime(rt.engine, limits=Limits(ticks=3),
                       paniclog=lambda module, text: logged.append(text))
    env = small.load_source(r"""
        local mod = {}
        function mod:validate_ehlo(str, ac, vctx)
          if str == "EHLO error" then error("plain failure") end
          if str == "EHLO spin" then while true do end end
          if str == "EHLO yield" then coroutine.yield(1) end
          seen = str
          return msys.core.VALIDATE_CONT
        end
        msys.registerModule("failing", mod)""", "failing")
    caller = PhaseCaller(small, bindings_of(small), error_reply=(454, "4.7.0 try later"))
    ehlo = caller.hook("ehlo", "validate_ehlo")
    assert ehlo(ValidationContext(conn={"peer_ip": "192.0.2.1"}), "EHLO fine") == 0  # a worker idles
    for command, expected, reused in (("EHLO error", "plain failure", True),
                                      ("EHLO spin", "instruction budget", True),
                                      ("EHLO yield", "coroutine.yield outside", False)):
        vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
        workers_before = list(small._idle_hook_workers)
        assert ehlo(vctx, command) == 1  # DONE
        assert (vctx.code.code, vctx.code.text) == (454, "try later")
        assert expected in logged[-1] and "failing:validate_ehlo" in logged[-1]
        assert (small._idle_hook_workers == workers_before) is reused
        assert small.current().vctx is None  # the call's context is gone
        vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
        assert ehlo(vctx, "EHLO fine") == 0 and vctx.code is None
        assert env[b"seen"] == b"EHLO fine"
    assert caller.calls == 7 and caller.failures == 3
