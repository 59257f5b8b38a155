"""Per-message cost of a typical 5-hook Lua policy, LuaJIT vs Lua 5.4.

Run: .venv/bin/python benchmarks/lua_policy_cost.py [messages]
Plays connect, mailfrom, rcptto, data, data_spool_each_rcpt through the
registry (the same path the SMTP phases will take: a fresh coroutine, budget
hook and proxies per call) and prints microseconds per message for each
engine lupa offers. Single greenlet; no I/O.
"""
from __future__ import annotations

import sys
import time

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
    started = time.perf_counter()
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
    return (time.perf_counter() - started) / messages * 1e6


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    for engine in available_engines():
        per_message_us(engine, 200)  # warm up
        best = min(per_message_us(engine, messages) for _ in range(3))
        version = LuaRuntime(engine).version
        print(f"{engine:7s} ({version}): {best:8.1f} us/message for 5 hooks "
              f"({best / 5:.1f} us/hook call)")


if __name__ == "__main__":
    main()
