"""The Lua route to a per-message gateway, end to end: Momentum's Lua API has no
gateway setter, so a scriptlet sets the message context key ``routing_gateway`` (for
the whole message) or ``routing_gateway:<recipient>`` (one recipient, in each_rcpt) --
the keys Sieve's ``ec_set_routing_gateway`` sets -- and delivery honours them. Real
daemon, dnsmasq and sinks: a.test's MX is 127.0.0.2, the gateway 127.0.0.3."""
from __future__ import annotations

from tests.helpers.sink import SmtpSink
from tests.scenarios.delivery_harness import make_body, relay_world, settle, wait_until

LUA = r'''
local mod = {}
function mod:validate_data_spool_each_rcpt(msg, accept, vctx)
  local rcpt = msg:rcptto()
  if rcpt == "lua@a.test" then
    msg:context_set(msys.core.VCTX_MESS, "routing_gateway:" .. rcpt, "127.0.0.3")
  end
  return msys.core.VALIDATE_CONT
end
function mod:validate_set_binding(msg)
  if msg:header("Subject")[1] == "all" then
    msg:context_set(msys.core.VCTX_MESS, "routing_gateway", "127.0.0.3")
  end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("gateway_policy", mod)
'''
CONF = 'scriptlet "scriptlet" { script "gw" { source = "gw" } }\n'


def test_lua_sets_the_gateway_per_recipient_and_per_message(tmp_path):
    (tmp_path / "daemon").mkdir()
    (tmp_path / "daemon" / "gw.lua").write_text(LUA)   # scripts live under the daemon's cwd
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        gateway = SmtpSink("127.0.0.3", port=world.sink_port).start()
        try:
            daemon = world.start_daemon(CONF)
            world.send("s@b.test", ["lua@a.test", "other@a.test"], make_body("some"))
            world.send("s@b.test", ["x@a.test"], make_body("all"))
            domain_mx = world.sink("127.0.0.2")
            wait_until(lambda: len(domain_mx.messages) + len(gateway.messages) >= 3,
                       daemon=daemon, what="three deliveries")
            settle(0.3)
            assert sorted(m.rcpts for m in domain_mx.messages) == [["other@a.test"]]
            assert sorted(m.rcpts for m in gateway.messages) == [["lua@a.test"], ["x@a.test"]]
        finally:
            gateway.stop()
