"""Outbound rate limits: at most N events in any S-second window, one window per scope.

Who calls it: the queue manager (queue/scheduler.py's dispatch), for ``outbound_throttle_messages`` (one event per
message handed to delivery) and ``outbound_throttle_connections`` (one per delivery
hand-off, i.e. per connection). Throttles resolve by reference (momentum-facts §1.5):
every (binding, domain) whose value comes from the same defining scope shares one
window, keyed by ``cfg.throttle_scope``'s scope id.

Why a sliding log and not a token bucket: a bucket of N tokens refilled at N/S lets
2N through in some S-second window; operators read "10/60" as "never more than 10 in
a minute", which the log guarantees. Memory: at most N timestamps per window.
Never sleeps: ``available``/``next_free`` tell the caller when to come back.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Hashable


class RateWindow:
    """Timestamps of the last ``count`` events; see the module docstring."""

    __slots__ = ("count", "seconds", "_events")

    def __init__(self, count: int, seconds: float) -> None:
        self.count = int(count)
        self.seconds = float(seconds)
        self._events: deque[float] = deque()

    def _expire(self, now: float) -> None:
        events = self._events
        while events and events[0] <= now - self.seconds:
            events.popleft()

    def available(self, now: float) -> int:
        """How many events may happen at ``now``."""
        self._expire(now)
        return max(0, self.count - len(self._events))

    def take(self, now: float, events: int = 1) -> None:
        """Record ``events`` events at ``now`` (the caller checked ``available``)."""
        self._events.extend([now] * events)

    def next_free(self, now: float) -> float:
        """The earliest time at which one more event may happen."""
        self._expire(now)
        if len(self._events) < self.count:
            return now
        if self.count <= 0:  # a zero rate never frees a slot within this window
            return now + self.seconds
        return self._events[len(self._events) - self.count] + self.seconds


class ThrottleBook:
    """One RateWindow per (option, defining scope); rebuilt windows follow a changed rate."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, Hashable], RateWindow] = {}

    def window(self, cfg: Any, option: str, *, binding: str | None,
               domain: str | None) -> RateWindow | None:
        found = cfg.throttle_scope(option, binding=binding, domain=domain)
        if found is None or found[1] is None:
            return None
        scope_id, rate = found
        key = (option, scope_id)
        window = self._windows.get(key)
        if window is None or window.count != rate.count or window.seconds != rate.seconds:
            window = RateWindow(rate.count, rate.seconds)
            self._windows[key] = window
        return window
