"""A 4xx from the receiver defers the message; it is retried after ``retry_interval``
and delivered once, with the same envelope and body."""
from __future__ import annotations

from tests.scenarios.delivery_harness import (make_body, relay_world, settle, sha256, strip_received,
                                               wait_until)


def test_transient_refusal_is_retried_then_delivered_once(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"], "b.test": ["127.0.0.3"]},
                     dot_replies=["451 4.3.0 try again later", "452 4.2.2 mailbox full"]) as world:
        daemon = world.start_daemon("retry_interval = 1\nmax_retry_interval = 1\n")
        body = make_body("retried")
        world.send("s@b.test", ["x@a.test"], body)
        sink = world.sink("127.0.0.2")
        wait_until(lambda: len(sink.messages) == 3, timeout=10, daemon=daemon, what="3 attempts")
        first, second, third = sink.dot_times
        assert second - first >= 0.9 and third - second >= 0.9   # waited retry_interval each time
        assert {(m.mail_from, tuple(m.rcpts)) for m in sink.messages} == {("s@b.test", ("x@a.test",))}
        assert {sha256(strip_received(m.body)) for m in sink.messages} == {sha256(body)}
        # delivered on the third attempt: no fourth attempt, no DSN to the sender
        settle(1.5)  # > retry_interval: a wrongly kept message would be tried again by now
        assert len(sink.messages) == 3 and world.sink("127.0.0.3").messages == []
