"""throttle.py: a RateWindow never lets more than N events into any S-second window, and
ThrottleBook shares one window per defining scope."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.loader import load_config_text
from ecelerity.queue.throttle import RateWindow, ThrottleBook


@settings(max_examples=300, deadline=None)
@given(count=st.integers(1, 6), seconds=st.integers(1, 30),
       steps=st.lists(st.tuples(st.integers(0, 12), st.integers(1, 4)), max_size=60))
def test_greedy_use_never_exceeds_the_window(count, seconds, steps):
    window, now, taken = RateWindow(count, seconds), 0.0, []
    for gap, wanted in steps:
        now += gap
        allowed = min(wanted, window.available(now))
        window.take(now, allowed)
        taken += [now] * allowed
        if window.available(now) == 0:
            free_at = window.next_free(now)
            assert free_at > now  # (asking available(free_at) here would move time forward)
    for index, first in enumerate(taken):
        assert len([t for t in taken[index:] if t < first + seconds]) <= count


def test_greedy_use_reaches_the_rate():
    window, now, taken = RateWindow(3, 60), 0.0, 0
    while now < 600:
        allowed = window.available(now)
        window.take(now, allowed)
        taken += allowed
        now = window.next_free(now) if allowed == 0 else now
    assert taken == 30  # 3 per minute for 10 minutes


def test_book_shares_a_window_per_defining_scope():
    cfg = load_config_text('Outbound_Throttle_Messages = "5/10"\n'
                           'Domain "own.test" { Outbound_Throttle_Messages = "1/10" }\n')
    book = ThrottleBook()
    a = book.window(cfg, "outbound_throttle_messages", binding=None, domain="a.test")
    b = book.window(cfg, "outbound_throttle_messages", binding=None, domain="b.test")
    own = book.window(cfg, "outbound_throttle_messages", binding=None, domain="own.test")
    assert a is b and own is not a
    assert (a.count, a.seconds, own.count) == (5, 10, 1)
    assert book.window(cfg, "outbound_throttle_connections", binding=None, domain="a.test") is None


def test_a_zero_rate_window_frees_nothing_within_its_window():
    from ecelerity.queue.throttle import RateWindow

    window = RateWindow(0, 60)
    assert window.next_free(100.0) == 160.0
