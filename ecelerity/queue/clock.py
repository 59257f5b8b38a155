"""An injectable clock, so retry, expiry and throttle behaviour is testable without sleeping.

Who calls it: queue/manager.py and queue/throttle.py read ``now()`` (epoch seconds,
the same scale as SpooledMessage.created/next_attempt) and block in
``wait(event, deadline)``; tests build a ManualClock and ``advance()`` it. Never
used for I/O timeouts (those are real time, in delivery/).
"""
from __future__ import annotations

import time
from typing import Protocol

import gevent
import gevent.event


class Clock(Protocol):
    def now(self) -> float: ...

    def wait(self, event: gevent.event.Event, deadline: float | None) -> None: ...


class SystemClock:
    """Wall-clock time; waits are gevent waits (they yield to the hub)."""

    def now(self) -> float:
        return time.time()

    def wait(self, event: gevent.event.Event, deadline: float | None) -> None:
        """Return when ``event`` is set or the clock reaches ``deadline`` (None: no deadline)."""
        if deadline is None:
            event.wait()
        else:
            event.wait(timeout=max(0.0, deadline - time.time()))


class ManualClock:
    """Time that moves only when told to: ``advance(seconds)`` / ``set(now)``.

    A greenlet in ``wait`` is woken (its event set) as soon as the clock passes its
    deadline; ``advance`` then yields once so woken greenlets can run.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._waiters: dict[int, tuple[float, gevent.event.Event]] = {}
        self._next_token = 0

    def now(self) -> float:
        return self._now

    def wait(self, event: gevent.event.Event, deadline: float | None) -> None:
        if deadline is not None and deadline <= self._now:
            return
        token = self._next_token
        self._next_token += 1
        if deadline is not None:
            self._waiters[token] = (deadline, event)
        try:
            event.wait()
        finally:
            self._waiters.pop(token, None)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("ManualClock.advance: time does not go backwards")
        self.set(self._now + seconds)

    def set(self, now: float) -> None:
        if now < self._now:
            raise ValueError("ManualClock.set: time does not go backwards")
        self._now = float(now)
        for deadline, event in list(self._waiters.values()):
            if deadline <= self._now:
                event.set()
        gevent.sleep(0)
