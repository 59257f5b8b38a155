"""Per-message cost of a typical 5-hook Lua policy, LuaJIT vs Lua 5.4.

Run: .venv/bin/python benchmarks/lua_policy_cost.py [messages]
Two paths per engine, microseconds per message (what the policy adds on top of
relaying; issue 9's target is <= 50 us/message):
  * live: the daemon's own hook path, modules/scriptlet.py ScriptletInstance.run
    (policy/lua/live_calls.py) over a real ValidationContext and InboundMessage
    (proxies, commit of the header edit into the message), one connection per message;
    benchmarks/lua_in_daemon.py measures the whole in-daemon cost on top of relaying;
  * offline: the registry with the offline tester's objects (bindings.py).
Phases: connect, mailfrom, rcptto, data, data_spool_each_rcpt. Best of 3 runs.
Single greenlet; no I/O.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ecelerity.policy.lua import LuaRuntime, available_engines
from ecelerity.policy.lua.bindings import LuaBindings, OfflineAccept, OfflineMessage, OfflineVctx

POLICY = r"""
local mod = {}
function mod:validate_connect(accept, vctx)
  if msys.cidr.query("blocked", vctx:get(msys.core.VCTX_CONN, "peer_ip") or "") then
    vctx:set_code(554, "5.7.1 go away") return msys.core.VALIDATE_DONE
  end
  return msys.core.VALIDATE_CONT
end
function mod:validate_mailfrom(str, accept, vctx)
  local m = msys.pcre.match(str, "@([^>]+)>")
  if m then vctx:set(msys.core.VCTX_MESS, "sender_domain", m[1]) end
  return msys.core.VALIDATE_CONT
end
function mod:validate_rcptto(msg, str, accept, vctx)
  if msys.pcre.match(str, "^RCPT TO:<[^@]+@blocked\\.example>", "i") then
    vctx:set_code(550, "5.7.1 no") return msys.core.VALIDATE_DONE
  end
  msys.counter.inc("rcpts")
  return msys.core.VALIDATE_CONT
end
function mod:validate_data(msg, accept, vctx)
  local subject = msg:header("Subject")[1] or ""
  if subject:find("VIAGRA", 1, true) then vctx:set_code(550, "5.7.1 spam") return msys.core.VALIDATE_DONE end
  return msys.core.VALIDATE_CONT
end
function mod:validate_data_spool_each_rcpt(msg, accept, vctx)
  msg:header("X-Policy", "sender=" .. (vctx:get(msys.core.VCTX_MESS, "sender_domain") or "?"))
  return msys.core.VALIDATE_CONT
end
msys.registerModule("typical", mod)
msys.cidr.define("blocked", {"192.0.2.0/24"})
"""
RAW = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hello\r\n\r\n" + b"body line\r\n" * 40


def per_message_us(engine: str, messages: int) -> float:
    runtime = LuaRuntime(engine)
    runtime.load_source(POLICY, "typical")
    bindings = LuaBindings(runtime)
    run = runtime.registry.run_hook
    started = time.process_time()
    for _ in range(messages):
        vctx = OfflineVctx(conn={"peer_ip": "198.51.100.7"})
        msg = OfflineMessage(RAW, mailfrom="a@b.example", rcptto="c@d.example", vctx=vctx)
        v, m, ac = bindings.vctx(vctx), bindings.msg(msg), bindings.accept(OfflineAccept())
        run("validate_connect", ac, v)
        run("validate_mailfrom", b"MAIL FROM:<a@b.example>", ac, v)
        run("validate_rcptto", m, b"RCPT TO:<c@d.example>", ac, v)
        run("validate_data", m, ac, v)
        run("validate_data_spool_each_rcpt", m, ac, v)
        assert vctx.code is None and msg.header("X-Policy") == ["sender=b.example"]
    return (time.process_time() - started) / messages * 1e6


def live_per_message_us(engine: str, messages: int) -> float:
    """The daemon's path: ScriptletInstance.run with the real vctx and message."""
    from types import SimpleNamespace

    from ecelerity.core.envelope import Envelope, Recipient
    from ecelerity.policy.lua.lib_inject import bindings_of
    from ecelerity.policy.vctx import ValidationContext
    from ecelerity.smtp.accept import InboundMessage
    from ecelerity.smtp.headers import split_message
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # modules/ lives at the root
    from modules.scriptlet import DEFAULT_ERROR_REPLY, ScriptletInstance, parse_reply

    runtime = LuaRuntime(engine)
    runtime.load_source(POLICY, "typical")
    ctx = SimpleNamespace(app=SimpleNamespace(services=[]))
    inst = ScriptletInstance(ctx, runtime, bindings_of(runtime), parse_reply(DEFAULT_ERROR_REPLY))
    parts = split_message(RAW)
    started = time.process_time()
    for _ in range(messages):
        vctx = ValidationContext(conn={"peer_ip": "198.51.100.7"})
        recipient = Recipient("c@d.example")
        message = InboundMessage(Envelope(mail_from="a@b.example", recipients=[recipient]),
                                 "00/00-1-A", parts)
        inst.run("connect", "validate_connect", vctx, ())
        inst.run("mailfrom", "validate_mailfrom", vctx, ("MAIL FROM:<a@b.example>",))
        inst.run("rcptto", "validate_rcptto", vctx, ("RCPT TO:<c@d.example>", recipient))
        vctx.recipients.append(recipient)
        inst.run("data", "validate_data", vctx, (message,))
        inst.run("data_spool_each_rcpt", "validate_data_spool_each_rcpt", vctx,
                 (message, recipient))
        assert vctx.code is None and b"X-Policy: sender=b.example" in message.header_block
    return (time.process_time() - started) / messages * 1e6


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    for engine in available_engines():
        version = LuaRuntime(engine).version
        for label, measure in (("live", live_per_message_us), ("offline", per_message_us)):
            measure(engine, 200)  # warm up
            best = min(measure(engine, messages) for _ in range(3))
            print(f"{engine:7s} ({version}) {label:7s}: {best:8.1f} us/message for 5 hooks "
                  f"({best / 5:.1f} us/hook call)")


if __name__ == "__main__":
    main()
