"""Session counting and inbound throttles: smtp/limits.py."""
from __future__ import annotations

from ecelerity.smtp.limits import InboundThrottle, SessionLimiter


def test_session_limiter_total_and_per_peer():
    lim = SessionLimiter()
    assert lim.try_enter("a", total_limit=3, peer_limit=2)
    assert lim.try_enter("a", total_limit=3, peer_limit=2)
    assert not lim.try_enter("a", total_limit=3, peer_limit=2)
    assert lim.try_enter("b", total_limit=3, peer_limit=2)
    assert not lim.try_enter("c", total_limit=3, peer_limit=2)
    lim.leave("a")
    assert lim.try_enter("c", total_limit=3, peer_limit=2)
    for peer in ("a", "b", "c"):
        lim.leave(peer)
    assert lim.total == 0 and lim.per_peer == {}


def test_throttle_refills_over_time():
    now = [0.0]
    thr = InboundThrottle(clock=lambda: now[0])
    rate = (2, 10.0)
    assert thr.allow("1.2.3.4", rate) and thr.allow("1.2.3.4", rate)
    assert not thr.allow("1.2.3.4", rate)
    assert thr.allow("5.6.7.8", rate)  # per peer
    now[0] = 5.0
    assert thr.allow("1.2.3.4", rate) and not thr.allow("1.2.3.4", rate)
    assert thr.allow("1.2.3.4", None) and thr.refused == 2


def test_throttle_memory_is_bounded():
    thr = InboundThrottle(max_keys=10)
    for i in range(100):
        thr.allow(f"10.0.0.{i}", (1, 60.0))
    assert len(thr._buckets) == 10
