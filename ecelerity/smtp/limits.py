"""Listener-wide limits shared by all sessions: concurrency counts and inbound throttles.

The SMTPService owns one SessionLimiter (sessions in progress: whole listener and
per peer IP; ``listener_sessions`` / ``service_sessions`` / ``peer_sessions`` refuse
with ``421 4.4.5 Service unavailable, concurrency limit reached``) and one
InboundThrottle (``inbound_throttle_messages = "N/S"``: at most N messages per S
seconds from one peer IP; over it, MAIL FROM gets ``451 4.7.1``, a transient policy
refusal, so a well-behaved client retries later). Both are bounded in memory and run
in the hub only (no locks). Never reads configuration: callers pass the limits they
resolved.
"""
from __future__ import annotations

import time
from collections import OrderedDict


class SessionLimiter:
    """Counts sessions in progress; ``try_enter`` refuses past a limit (0 = unlimited)."""

    def __init__(self) -> None:
        self.total = 0
        self.per_peer: dict[str, int] = {}

    def try_enter(self, peer_ip: str, *, total_limit: int = 0, peer_limit: int = 0) -> bool:
        if total_limit and self.total >= total_limit:
            return False
        if peer_limit and self.per_peer.get(peer_ip, 0) >= peer_limit:
            return False
        self.total += 1
        self.per_peer[peer_ip] = self.per_peer.get(peer_ip, 0) + 1
        return True

    def leave(self, peer_ip: str) -> None:
        self.total -= 1
        left = self.per_peer.get(peer_ip, 0) - 1
        if left > 0:
            self.per_peer[peer_ip] = left
        else:
            self.per_peer.pop(peer_ip, None)


class InboundThrottle:
    """A token bucket per (peer IP, rate); the oldest buckets are dropped past ``max_keys``."""

    def __init__(self, max_keys: int = 65536, clock=time.monotonic) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[tuple[str, int, float], list[float]] = OrderedDict()
        self.refused = 0

    def allow(self, peer_ip: str, rate: tuple[int, float] | None) -> bool:
        """Take one message token for ``peer_ip``; False when the rate is exhausted."""
        if rate is None or rate[0] <= 0:
            return True
        count, per = rate
        key = (peer_ip, count, per)
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = [float(count), now]
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            tokens, last = bucket
            bucket[0] = min(float(count), tokens + (now - last) * count / max(per, 1e-9))
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        self.refused += 1
        return False
