"""msys.timer.* and msys.sleep run closures later without blocking the hub."""
import time

import gevent

from .conftest import values


def test_after_every_cancel(rt):
    env = rt.load_source("""
        fired = {}
        msys.timer.after(0.05, function() fired[#fired + 1] = 'after' end)
        local id = msys.timer.after(0.05, function() fired[#fired + 1] = 'cancelled' end)
        cancelled = msys.timer.cancel(id)
        tick_id = msys.timer.every(0.02, function() fired[#fired + 1] = 'tick' end)
        """, "timers")
    gevent.sleep(0.15)
    assert env[b"cancelled"] is True
    assert rt.call(env[b"msys"][b"timer"][b"cancel"], env[b"tick_id"]).values == (True,)
    fired = list(env[b"fired"].values())
    gevent.sleep(0.05)
    assert list(env[b"fired"].values()) == fired  # no tick after cancel
    assert b"after" in fired and b"cancelled" not in fired and fired.count(b"tick") >= 3


def test_sleep_blocks_only_the_caller(run):
    started = time.monotonic()
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(1) or gevent.sleep(0.01) for _ in range(5)])
    assert values(run("msys.sleep(0.1) return 'woke'")) == (b"woke",)
    ticker.join()
    assert len(ticks) == 5 and time.monotonic() - started < 0.5
