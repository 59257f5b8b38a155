"""Through a real daemon: a Lua set_binding hook names a binding_group and a routing
domain; every message leaves from a member binding's bind_address (both members used)
and goes to the routing domain's MX, with RCPT TO unchanged."""
from __future__ import annotations

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

POLICY = r'''
local mod = {}
function mod:validate_set_binding(msg)
  msg:binding_group("pool")
  if msg:rcptto():match("@alias%.test$") then msg:routing_domain("hub.test") end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("policy", mod)
'''

CONF = '''
Binding_Group "pool" {
  Binding "p5" { bind_address = "127.0.0.5" }
  Binding "p6" { bind_address = "127.0.0.6" }
}
Binding "other" { bind_address = "127.0.0.7" }
scriptlet "scriptlet" { script "policy" { source = "policy" } }
'''


def test_group_members_carry_the_mail_and_routing_domain_picks_the_mx(tmp_path):
    with relay_world(tmp_path, domains={"hub.test": ["127.0.0.2"],
                                        "alias.test": ["127.0.0.3"]}) as world:
        (tmp_path / "daemon").mkdir(exist_ok=True)
        (tmp_path / "daemon" / "policy.lua").write_text(POLICY)
        daemon = world.start_daemon(CONF)
        for index in range(20):
            world.send("s@src.test", [f"user{index}@alias.test"], make_body(f"grp-{index}"))
        hub = world.sink("127.0.0.2")
        wait_until(lambda: len(hub.messages) == 20, daemon=daemon, what="20 messages at the hub")
        assert world.sink("127.0.0.3").messages == []          # not the recipient's MX
        assert sorted(r for m in hub.messages for r in m.rcpts) == sorted(
            f"user{i}@alias.test" for i in range(20))
        sources = {m.peer[0] for m in hub.messages}
        assert sources == {"127.0.0.5", "127.0.0.6"}   # all 20 on one member: 1 in 500k
