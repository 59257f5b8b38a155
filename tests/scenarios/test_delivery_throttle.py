"""``outbound_throttle_messages`` holds at the receiver: messages arrive no faster than
N per window, and the domain is still served at about that rate (throttled, not stalled).

Times are the sink's own arrival times of each final dot. Delivery latency jitters
(a few ms), so "at most N in any W seconds" is checked over W minus a 0.25 s margin."""
from __future__ import annotations

import threading

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

RATE, WINDOW, TOTAL = 4, 1.0, 12


def _most_in_any_window(times: list[float], width: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < width) for i, start in enumerate(times))


def test_delivered_rate_stays_within_outbound_throttle_messages(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"], "c.test": ["127.0.0.3"]}) as world:
        daemon = world.start_daemon(
            f'Domain "a.test" {{ outbound_throttle_messages = "{RATE}/{int(WINDOW)}" }}\n')
        senders = [threading.Thread(target=world.send, args=("s@b.test", [f"r{i}@a.test"],
                                                              make_body(f"thr-{i}")))
                   for i in range(TOTAL)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(20)
        world.send("s@b.test", ["other@c.test"], make_body("unthrottled"))
        sink_a, sink_c = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        # another domain is not held up by a.test's throttle
        wait_until(lambda: len(sink_c.messages) == 1, timeout=2, daemon=daemon,
                   what="the unthrottled domain's message")
        wait_until(lambda: len(sink_a.messages) == TOTAL, timeout=15, daemon=daemon,
                   what=f"{TOTAL} throttled messages")
        times = sink_a.dot_times
        assert _most_in_any_window(times, WINDOW - 0.25) <= RATE
        # 12 messages at 4/s: three windows, so the last arrives >= 2 s after the first
        assert max(times) - min(times) >= 2 * WINDOW - 0.25
        assert max(times) - min(times) < 2 * WINDOW + 2.0   # and it did not stall
