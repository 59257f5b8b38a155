"""msg:header appends recorded on the Lua side (sandbox.lua flush_pending, LiveMessage.absorb).

The plain appends of a validation hook from DATA on are kept in Lua and handed to Python
with the call's yield, or before any call into Python. These tests pin that the result is
the Python path's, byte for byte and error for error: same header block, same order with
appends that do go to Python, visible to reads / deletes / msys.expandMacro in the same
hook, dropped with a failing hook, never applied to another message (a msg kept past its
message, another session's hook interleaved), never stale after Python edits the message.
"""
from __future__ import annotations

import gevent

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.message import Message
from ecelerity.policy.lua.lib_inject import bindings_of
from ecelerity.policy.lua.live_calls import PhaseCaller
from ecelerity.policy.phases import HookRegistry
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

RAW = b"From: a@b.example\r\nSubject: hello\r\n\r\nbody\r\n"
PHASES = ("rcptto", "data", "data_spool", "data_spool_each_rcpt")


def setup(rt, hooks_lua: str) -> tuple[PhaseCaller, HookRegistry]:
    rt.env = rt.load_source("local mod = {}\nseen = {}\n" + hooks_lua
                            + "\nmsys.registerModule('probe', mod)\n", "probe")
    caller = PhaseCaller(rt, bindings_of(rt))
    hooks = HookRegistry()
    for phase in PHASES:
        hooks.register(phase, lambda vctx, *args, phase=phase:
                       caller.run(phase, f"validate_{phase}", vctx, args))
    return caller, hooks


def one_message(hooks: HookRegistry, vctx: ValidationContext, raw: bytes = RAW,
                between=None) -> InboundMessage:
    vctx.reset_message()
    recipient = Recipient("c@d.example")
    hooks.run("rcptto", vctx, "RCPT TO:<c@d.example>", recipient)
    inbound = InboundMessage(Envelope(mail_from="a@b.example", recipients=[recipient]),
                             "00/00-1-A", split_message(raw))
    hooks.run("data", vctx, inbound)
    if between is not None:
        between(inbound)
    inbound.trace = b"Received: from c.example by mx.example\r\n"
    hooks.run("data_spool", vctx, inbound)
    hooks.run("data_spool_each_rcpt", vctx, inbound, recipient)
    return inbound


def seen(rt, name: str):
    value = rt.env[b"seen"][name.encode()]
    return value.decode() if isinstance(value, bytes) else value


def headers_of(inbound: InboundMessage) -> list[tuple[str, str]]:
    return [(f.name, f.value()) for f in Message(inbound.data()).headers]


def test_recorded_appends_land_as_the_python_path_writes_them(rt):
    _caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  msg:header("X-A", "1")
  msg:header("X-B", "two  words: and a colon", "append")
  msg:header("X-U", "caf\\195\\169")          -- not ASCII: Python encodes it (RFC 2047)
  msg:header("X-C", "=?not-a-word?=")         -- "=?": Python's way too
  msg:header("X-D", "last")
  return msys.core.VALIDATE_CONT
end""")
    inbound = one_message(hooks, ValidationContext())
    block = inbound.header_block
    assert block.startswith(b"From: a@b.example\r\nSubject: hello\r\n")
    tail = block[len(b"From: a@b.example\r\nSubject: hello\r\n"):]
    lines = tail.split(b"\r\n")
    assert lines[0] == b"X-A: 1" and lines[1] == b"X-B: two  words: and a colon"
    assert lines[2].startswith(b"X-U: =?utf-8?") and lines[-2] == b"X-D: last"
    assert [name for name, _ in headers_of(inbound)][-5:] == ["X-A", "X-B", "X-U", "X-C", "X-D"]
    assert dict(headers_of(inbound))["X-U"] == "café"


def test_bare_lf_messages_get_bare_lf_fields(rt):
    _caller, hooks = setup(rt, """
function mod:validate_data_spool_each_rcpt(msg, ac, vctx)
  msg:header("X-A", "1") msg:header("X-B", "2")
  return msys.core.VALIDATE_CONT
end""")
    inbound = one_message(hooks, ValidationContext(), RAW.replace(b"\r\n", b"\n"))
    # the trace (CRLF) came first, so make_field's line end is the trace's
    assert inbound.header_block.endswith(b"Subject: hello\nX-A: 1\r\nX-B: 2\r\n")


def test_reads_deletes_and_library_calls_in_the_same_hook_see_the_appends(rt):
    _caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  msg:header("X-A", "1")
  msg:header("X-A", "2")
  seen.read = table.concat(msg:header("X-A"), ",")
  msg:header("X-Gone", "soon")
  seen.deleted = msg:header("X-Gone", "")
  msg:header("X-Macro", "m")
  seen.macro = msys.expandMacro("[%{header:X-Macro}]")
  msg:header("X-After", "a")
  return msys.core.VALIDATE_CONT
end""")
    inbound = one_message(hooks, ValidationContext())
    assert seen(rt, "read") == "1,2"
    assert seen(rt, "deleted") is True
    assert seen(rt, "macro") == "[m]"
    names = [name for name, _ in headers_of(inbound)]
    assert "X-Gone" not in names
    assert names[-4:] == ["X-A", "X-A", "X-Macro", "X-After"]


def test_errors_are_the_python_paths_at_the_call_site(rt):
    _caller, hooks = setup(rt, """
function mod:validate_rcptto(msg, str, ac, vctx)
  seen.before_data = select(2, pcall(msg.header, msg, "X-Early", "1"))
  return msys.core.VALIDATE_CONT
end
function mod:validate_data(msg, ac, vctx)
  seen.bad_name = select(2, pcall(msg.header, msg, "Bad Name", "v"))
  seen.bad_mode = select(2, pcall(msg.header, msg, "X-M", "v", "sideways"))
  seen.dot_call = select(2, pcall(msg.header, "X-Dot", "v"))
  return msys.core.VALIDATE_CONT
end""")
    inbound = one_message(hooks, ValidationContext())
    assert "not available before the data phase" in seen(rt, "before_data")
    assert "invalid header name" in seen(rt, "bad_name")
    assert "append, prepend or replace" in seen(rt, "bad_mode")
    assert "call it with ':'" in seen(rt, "dot_call")
    assert not {"X-Early", "Bad Name", "X-M", "X-Dot"} & {n for n, _ in headers_of(inbound)}


def test_a_failing_hook_keeps_none_of_its_appends(rt):
    caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  msg:header("X-Before-Failure", "1")
  error("boom")
end
function mod:validate_data_spool(msg, ac, vctx)
  seen.later = #msg:header("X-Before-Failure")
  return msys.core.VALIDATE_CONT
end""")
    vctx = ValidationContext()
    inbound = one_message(hooks, vctx)
    assert caller.failures == 1
    assert seen(rt, "later") == 0
    assert b"X-Before-Failure" not in inbound.data()


def test_a_msg_kept_past_its_message_never_records_into_another(rt):
    _caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  if seen.old == nil then
    seen.old = msg
    msg:header("X-First", "1")
  else
    seen.stale = select(2, pcall(seen.old.header, seen.old, "X-Stale", "1"))
    msg:header("X-Second", "2")
  end
  return msys.core.VALIDATE_CONT
end""")
    vctx = ValidationContext()
    first = one_message(hooks, vctx)
    second = one_message(hooks, vctx)
    assert "gone" in seen(rt, "stale")
    assert [n for n, _ in headers_of(first) if n.startswith("X-")] == ["X-First"]
    assert [n for n, _ in headers_of(second) if n.startswith("X-")] == ["X-Second"]


def test_python_edits_between_phases_are_seen_with_the_recorded_appends(rt):
    _caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  msg:header("X-Lua", "1")
  return msys.core.VALIDATE_CONT
end
function mod:validate_data_spool(msg, ac, vctx)
  seen.names = {}
  for _, name in ipairs({"X-Lua", "X-Sieve", "Subject"}) do
    seen.names[#seen.names + 1] = name .. "=" .. table.concat(msg:header(name), ",")
  end
  seen.names = table.concat(seen.names, ";")
  msg:header("X-Spool", "2")
  return msys.core.VALIDATE_CONT
end""")

    def sieve_like_edit(inbound: InboundMessage) -> None:  # another engine rewrites the block
        inbound.header_block = (inbound.header_block.replace(b"Subject: hello", b"Subject: edited")
                                + b"X-Sieve: s\r\n")
    inbound = one_message(hooks, ValidationContext(), between=sieve_like_edit)
    assert seen(rt, "names") == "X-Lua=1;X-Sieve=s;Subject=edited"
    assert [n for n, _ in headers_of(inbound) if n.startswith("X-")] == ["X-Lua", "X-Sieve",
                                                                          "X-Spool"]


def test_interleaved_sessions_keep_their_own_appends(rt):
    _caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  local me = vctx:get(msys.core.VCTX_CONN, "me")
  msg:header("X-Who", me)
  msys.sleep(0.001)          -- the other session's hook runs here
  msg:header("X-Who-Again", me)
  return msys.core.VALIDATE_CONT
end""")
    results = {}

    def session(name: str) -> None:
        results[name] = one_message(hooks, ValidationContext(conn={"me": name}))
    gevent.joinall([gevent.spawn(session, "one"), gevent.spawn(session, "two")], raise_error=True)
    for name, inbound in results.items():
        assert [(n, v) for n, v in headers_of(inbound) if n.startswith("X-")] == [
            ("X-Who", name), ("X-Who-Again", name)]


def test_a_call_that_never_finishes_leaves_its_appends_behind(rt):
    caller, hooks = setup(rt, """
function mod:validate_data(msg, ac, vctx)
  msg:header("X-Abandoned", "1")
  coroutine.yield("not a worker's yield")   -- the call is dropped as a failure
end
function mod:validate_data_spool(msg, ac, vctx)
  seen.later = #msg:header("X-Abandoned")
  msg:header("X-Spool", "2")
  return msys.core.VALIDATE_CONT
end""")
    inbound = one_message(hooks, ValidationContext())
    assert caller.failures == 1
    assert seen(rt, "later") == 0
    assert [n for n, _ in headers_of(inbound) if n.startswith("X-")] == ["X-Spool"]
