"""clock.py: ManualClock wakes waiters exactly when their deadline passes; SystemClock waits
for real (briefly)."""
from __future__ import annotations

import time

import gevent
import gevent.event
import pytest

from ecelerity.queue.clock import ManualClock, SystemClock


def test_manual_clock_wakes_at_the_deadline_only():
    clock = ManualClock(1000.0)
    event = gevent.event.Event()
    woke = []
    waiter = gevent.spawn(lambda: (clock.wait(event, 1010.0), woke.append(clock.now())))
    gevent.sleep(0)
    clock.advance(9.5)
    gevent.sleep(0.01)
    assert woke == []
    clock.advance(0.5)
    waiter.join(timeout=1)
    assert woke == [1010.0]
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_manual_clock_wait_returns_on_the_event():
    clock = ManualClock(0.0)
    event = gevent.event.Event()
    waiter = gevent.spawn(clock.wait, event, None)
    gevent.sleep(0)
    event.set()
    waiter.join(timeout=1)
    assert waiter.dead
    clock.wait(gevent.event.Event(), 0.0)  # a deadline already passed: no wait at all


def test_system_clock_waits_until_the_deadline():
    clock = SystemClock()
    started = time.monotonic()
    clock.wait(gevent.event.Event(), clock.now() + 0.05)
    assert 0.04 <= time.monotonic() - started < 1.0
