"""Recipients sharing a body go in batches of ``max_recipients_per_batch``; connections are
reused between deliveries, up to ``max_deliveries_per_connection`` each."""
from __future__ import annotations

from collections import Counter

from tests.scenarios.delivery_harness import make_body, relay_world, sha256, strip_received, wait_until

ONE_CONNECTION = "max_outbound_connections = 1\nidle_timeout = 10\n"


def test_recipients_of_one_message_are_batched_on_one_connection(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        daemon = world.start_daemon(ONE_CONNECTION + "max_recipients_per_batch = 2\n")
        rcpts = [f"r{i}@a.test" for i in range(5)]
        body = make_body("batched")
        world.send("s@b.test", rcpts, body)
        sink = world.sink("127.0.0.2")
        wait_until(lambda: sum(len(m.rcpts) for m in sink.messages) == 5, daemon=daemon,
                   what="5 recipients")
        assert sorted(len(m.rcpts) for m in sink.messages) == [1, 2, 2]
        assert sorted(r for m in sink.messages for r in m.rcpts) == rcpts
        assert {sha256(strip_received(m.body)) for m in sink.messages} == {sha256(body)}
        assert sink.connections == 1  # three transactions, one connection (RSET between)
        assert sink.commands.count("RSET") == 2


def test_connection_is_reused_up_to_max_deliveries_per_connection(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        daemon = world.start_daemon(ONE_CONNECTION + "max_deliveries_per_connection = 2\n")
        sink = world.sink("127.0.0.2")
        for i in range(5):
            world.send("s@b.test", [f"r{i}@a.test"], make_body(f"reuse-{i}"))
            wait_until(lambda i=i: len(sink.messages) == i + 1, daemon=daemon, what=f"message {i}")
        per_connection = Counter(m.connection for m in sink.messages)
        assert sorted(per_connection.values()) == [1, 2, 2]
        assert sink.connections == 3


def test_idle_connection_is_reused_across_separate_messages(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        daemon = world.start_daemon(ONE_CONNECTION)
        sink = world.sink("127.0.0.2")
        for i in range(4):
            world.send("s@b.test", [f"r{i}@a.test"], make_body(f"idle-{i}"))
            wait_until(lambda i=i: len(sink.messages) == i + 1, daemon=daemon, what=f"message {i}")
        assert sink.connections == 1
        assert {m.connection for m in sink.messages} == {1}
