"""Delayed queue: message IDs waiting for their next attempt, ordered by due time.

One instance per (binding, domain), on the timer structure of _speedups/timerq (a
compiled twin when built). The queue manager pops due IDs into the active queue;
nothing else touches it. Holds IDs and due times only. Never blocks: O(log n) per
operation.
"""
from __future__ import annotations

from ecelerity._speedups.timerq import TimerQueue


class DelayedQueue:
    """Message IDs keyed by next-attempt time; see the module docstring."""

    __slots__ = ("_timers",)

    def __init__(self) -> None:
        self._timers = TimerQueue()

    def __len__(self) -> int:
        return len(self._timers)

    def __contains__(self, message_id: str) -> bool:
        return message_id in self._timers

    def add(self, message_id: str, due_at: float) -> None:
        self._timers.push(due_at, message_id)

    def remove(self, message_id: str) -> bool:
        return self._timers.remove(message_id)

    def pop_due(self, now: float) -> list[str]:
        """IDs due at or before ``now``, earliest first."""
        return self._timers.pop_due(now)

    def next_due(self) -> float | None:
        top = self._timers.peek()
        return None if top is None else top[0]

    def due_of(self, message_id: str) -> float | None:
        return self._timers.due_of(message_id)

    def ids(self) -> list[str]:
        return self._timers.keys()
