"""What one Lua -> Python callback costs inside a validation hook, per kind of call.

Run by hand (not a test): ``.venv/bin/python benchmarks/lua_callback_cost.py [luajit|lua54]``.
One hook (validate_data, through live_calls.PhaseCaller.hook like the daemon) runs a
Lua loop of 5,000 identical calls -- vctx:get/set, msys.cidr.query, msys.pcre.match
(hit and miss), msys.counter.inc, msg:header read (plain and RFC 2047 Subject) and
append -- and the CPU time per call is printed, best of 5. benchmarks/lua_in_daemon.py
is the in-daemon total these add up to. No I/O, no network.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lua_in_daemon import make_messages  # noqa: E402
from ecelerity.core.envelope import Envelope, Recipient  # noqa: E402
from ecelerity.policy.lua import LuaRuntime  # noqa: E402
from ecelerity.policy.lua.lib_inject import bindings_of  # noqa: E402
from ecelerity.policy.lua.live_calls import PhaseCaller  # noqa: E402
from ecelerity.policy.vctx import ValidationContext  # noqa: E402
from ecelerity.smtp.accept import InboundMessage  # noqa: E402
from ecelerity.smtp.headers import split_message  # noqa: E402

CALLS = 5000
OPERATIONS = {
    "nothing": "",
    "vctx:get": 'vctx:get(msys.core.VCTX_CONN, "peer_ip")',
    "vctx:set": 'vctx:set(msys.core.VCTX_MESS, "sender_domain", "x.example")',
    "msys.cidr.query": 'msys.cidr.query("blocked", "198.51.100.7")',
    "msys.pcre.match hit": 'msys.pcre.match("MAIL FROM:<a@b.example>", "@([^>]+)>")',
    "msys.pcre.match miss": 'msys.pcre.match("RCPT TO:<c@d.example>", '
                            '"^RCPT TO:<[^@]+@blocked\\\\.example>", "i")',
    "msys.counter.inc": 'msys.counter.inc("rcpts")',
    "msg:header read": 'msg:header("Subject")',
    "msg:header read 2047": 'msg:header("Subject")',
    "msg:header append": 'msg:header("X-Policy", "sender=b.example")',
}


def main() -> None:
    engine = sys.argv[1] if len(sys.argv) > 1 else "luajit"
    runtime = LuaRuntime(engine)
    source = ["local mod, ops = {}, {}", "msys.cidr.define('blocked', {'192.0.2.0/24'})",
              "CURRENT = {}"]
    for name, operation in OPERATIONS.items():
        source.append(f"ops[{name!r}] = function(msg, accept, vctx) "
                      f"for i = 1, {CALLS} do {operation} end end")
    source += ["function mod:validate_data(msg, accept, vctx) "
               "ops[CURRENT.name](msg, accept, vctx) return 0 end",
               'msys.registerModule("callbacks", mod)']
    env = runtime.load_source("\n".join(source), "callbacks")
    caller = PhaseCaller(runtime, bindings_of(runtime))
    hook = caller.hook("data", "validate_data")
    plain, encoded = make_messages()[:2]  # the second one has an RFC 2047 Subject
    print(f"{runtime.version}: CPU us per call, best of 5 loops of {CALLS}")
    for name in OPERATIONS:
        env[b"CURRENT"][b"name"] = name.encode()
        best = float("inf")
        for _ in range(5):
            vctx = ValidationContext(conn={"peer_ip": "198.51.100.7"})
            inbound = InboundMessage(Envelope(mail_from="a@b.example",
                                              recipients=[Recipient("c@d.example")]), "00/00-1-A",
                                     split_message(encoded if name.endswith("2047") else plain))
            started = time.process_time()
            hook(vctx, inbound)
            best = min(best, time.process_time() - started)
        if caller.failures:
            raise SystemExit(f"{name}: the hook failed; see the paniclog text above")
        print(f"  {name:22s} {best / CALLS * 1e6:6.2f}")


if __name__ == "__main__":
    main()
