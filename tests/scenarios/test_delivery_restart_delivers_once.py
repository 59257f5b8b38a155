"""Messages queued when the daemon stops -- some in an active queue behind a slow
receiver, some in a delayed queue after a 4xx -- are all delivered after a restart,
and none twice (every message carries a unique marker; the sinks count them)."""
from __future__ import annotations

import re
from collections import Counter

from tests.scenarios.delivery_harness import make_body, relay_world, settle, wait_until

ACTIVE, DELAYED = 6, 3
MARKER = re.compile(rb"Subject: (\S+)")


def _accepted(sink, refused: int) -> Counter:
    """Markers of the messages the sink accepted (the first ``refused`` got a 4xx)."""
    return Counter(MARKER.search(m.body).group(1).decode() for m in sink.messages[refused:])


def test_active_and_delayed_messages_are_delivered_once_after_restart(tmp_path):
    domains = {"a.test": ["127.0.0.2"], "c.test": ["127.0.0.3"]}
    with relay_world(tmp_path, domains=domains, dot_delay=0.15) as world:
        sink_a, sink_c = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        sink_c.dot_replies = ["451 4.3.0 later"] * DELAYED
        extra = ("max_outbound_connections = 1\nmax_deliveries_per_connection = 1\n"
                 "retry_interval = 2\nmax_retry_interval = 2\n")
        daemon = world.start_daemon(extra)
        for i in range(DELAYED):
            world.send("s@b.test", [f"d{i}@c.test"], make_body(f"delayed-{i}"))
        for i in range(ACTIVE):
            world.send("s@b.test", [f"a{i}@a.test"], make_body(f"active-{i}"))
        wait_until(lambda: len(sink_c.messages) == DELAYED, daemon=daemon, what="the 4xx round")
        assert len(sink_a.messages) < ACTIVE - 2    # most of a.test is still queued
        assert daemon.stop() == 0
        before = len(sink_a.messages) + len(sink_c.messages)

        daemon = world.start_daemon(extra)
        wait_until(lambda: len(sink_a.messages) >= ACTIVE and len(sink_c.messages) >= 2 * DELAYED,
                   timeout=15, daemon=daemon, what="everything delivered after the restart")
        settle(2.2)  # > retry_interval: a duplicate or a leftover retry would show by now
        assert _accepted(sink_a, 0) == Counter(f"active-{i}" for i in range(ACTIVE))
        assert _accepted(sink_c, DELAYED) == Counter(f"delayed-{i}" for i in range(DELAYED))
        assert before < ACTIVE + 2 * DELAYED       # the restart really had work left
