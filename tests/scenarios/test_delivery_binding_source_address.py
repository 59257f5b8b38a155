"""Mail leaves from its binding's ``bind_address`` (the sink sees the peer address) and
announces the binding's ``ehlo_hostname``; a Domain stanza inside the binding overrides
options for that destination only. Messages nobody bound use the ``default`` binding."""
from __future__ import annotations

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

CONF = '''
Binding "default" {
  bind_address = "127.0.0.5"
  ehlo_hostname = "out5.mta.test"
  Domain "c.test" { ehlo_hostname = "c-only.mta.test" }
}
Binding "unused" { bind_address = "127.0.0.6" }
'''


def test_default_binding_source_address_and_ehlo(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"], "c.test": ["127.0.0.3"]}) as world:
        daemon = world.start_daemon(CONF)
        world.send("s@b.test", ["x@a.test"], make_body("bind-a"))
        world.send("s@b.test", ["x@c.test"], make_body("bind-c"))
        sink_a, sink_c = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        wait_until(lambda: sink_a.messages and sink_c.messages, daemon=daemon, what="both domains")
        assert sink_a.messages[0].peer[0] == "127.0.0.5"
        assert sink_c.messages[0].peer[0] == "127.0.0.5"
        assert sink_a.messages[0].helo == "out5.mta.test"
        assert sink_c.messages[0].helo == "c-only.mta.test"


def test_without_a_bind_address_the_kernel_picks_the_source(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        daemon = world.start_daemon('Binding "other" { bind_address = "127.0.0.6" }\n')
        world.send("s@b.test", ["x@a.test"], make_body("unbound"))
        sink = world.sink("127.0.0.2")
        wait_until(lambda: sink.messages, daemon=daemon, what="the message")
        assert sink.messages[0].peer[0] != "127.0.0.6"   # not another binding's address
        assert sink.messages[0].helo == "mta.test"
