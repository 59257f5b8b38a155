"""A message from the null sender ``<>`` that fails permanently produces no DSN
(never bounce a bounce), while the same failure for a real sender does."""
from __future__ import annotations

from tests.scenarios.delivery_harness import make_body, relay_world, settle, wait_until


def test_no_dsn_for_a_null_sender(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"], "b.test": ["127.0.0.3"]},
                     rcpt_replies={"bad@a.test": "550 5.1.1 no such user",
                                   "bad2@a.test": "550 5.1.1 no such user"}) as world:
        daemon = world.start_daemon("max_outbound_connections = 1\n")
        sink_a, sink_b = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        world.send("", ["bad@a.test"], make_body("null-sender"))
        wait_until(lambda: "RCPT TO:<bad@a.test>" in sink_a.commands, daemon=daemon,
                   what="the null-sender attempt")
        # a control message failing the same way after it: its DSN proves DSNs flow
        world.send("carol@b.test", ["bad2@a.test"], make_body("control"))
        wait_until(lambda: len(sink_b.messages) == 1, timeout=10, daemon=daemon, what="the control DSN")
        settle(0.5)
        assert [m.rcpts for m in sink_b.messages] == [["carol@b.test"]]
        assert b"bad2@a.test" in sink_b.messages[0].body
        assert sink_a.messages == []
        assert sink_a.commands.count("RCPT TO:<bad@a.test>") == 1  # failed for good, not retried
