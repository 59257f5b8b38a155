"""msys.sleep and msys.timer.*: waiting without blocking the hub.

Installed by libraries.py. ``msys.sleep(seconds)`` runs gevent.sleep in the
calling greenlet: only that session waits (each call into Lua has its own
coroutine, see runtime.py). Timers run their closure later in a new greenlet,
as a fresh call under the usual budget; errors go to the paniclog.
  msys.timer.after(seconds, fn) / msys.timer.at(unix_ts, fn) / msys.timer.every(seconds, fn)
      -> a timer id (number); msys.timer.cancel(id) -> true if it was pending
Never blocks the hub.
"""
from __future__ import annotations

import itertools
import time
from typing import Any

import gevent

_ids = itertools.count(1)


def sleep(runtime: Any, seconds: Any = 0) -> None:
    gevent.sleep(max(0.0, float(seconds)))


def _timers(runtime: Any) -> dict[int, gevent.Greenlet]:
    return runtime.__dict__.setdefault("_timers", {})


def after(runtime: Any, seconds: Any, function: Any) -> int:
    timer_id = next(_ids)
    function = runtime.sandbox.anchor(function)  # kept past this call

    def fire() -> None:
        _timers(runtime).pop(timer_id, None)
        runtime.call(function, what=f"timer {timer_id}")
    _timers(runtime)[timer_id] = gevent.spawn_later(max(0.0, float(seconds)), fire)
    return timer_id


def at(runtime: Any, when: Any, function: Any) -> int:
    return after(runtime, float(when) - time.time(), function)


def every(runtime: Any, seconds: Any, function: Any) -> int:
    interval = max(0.001, float(seconds))
    timer_id = next(_ids)
    function = runtime.sandbox.anchor(function)  # kept past this call

    def repeat() -> None:
        while True:
            gevent.sleep(interval)
            if timer_id not in _timers(runtime):  # cancelled while this wake-up was due
                return
            runtime.call(function, what=f"timer {timer_id}")
    _timers(runtime)[timer_id] = gevent.spawn(repeat)
    return timer_id


def cancel(runtime: Any, timer_id: Any) -> bool:
    greenlet = _timers(runtime).pop(int(timer_id), None)
    if greenlet is None:
        return False
    greenlet.kill(block=False)
    return True


def cancel_all(runtime: Any) -> None:
    """Called when a runtime is retired (reload/stop)."""
    for timer_id in list(_timers(runtime)):
        cancel(runtime, timer_id)


FUNCTIONS = {"msys.sleep": sleep, "msys.timer.after": after, "msys.timer.at": at,
             "msys.timer.every": every, "msys.timer.cancel": cancel}
