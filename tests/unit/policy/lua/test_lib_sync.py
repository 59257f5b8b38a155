"""msys.lock/unlock, thread.mutex, msys.runInPool and msys.threadpool.* on greenlets."""
from __future__ import annotations

import time

import gevent

from .conftest import values


def test_named_lock_serialises_greenlets_and_sleeps_only_the_caller(rt, run):
    env = rt.load_source("""
        order = {}
        function critical(tag)
          msys.lock("shared")
          order[#order + 1] = tag .. "+"
          msys.sleep(0.05)
          order[#order + 1] = tag .. "-"
          msys.unlock("shared")
        end""", "locks")
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(1) or gevent.sleep(0.01) for _ in range(5)])
    jobs = [gevent.spawn(rt.call, env[b"critical"], tag) for tag in (b"a", b"b")]
    gevent.joinall(jobs)
    ticker.join()
    assert all(job.value.ok for job in jobs)
    assert list(env[b"order"].values()) == [b"a+", b"a-", b"b+", b"b-"]
    assert len(ticks) == 5  # the hub kept running while one greenlet waited for the lock
    assert "not held" in run("msys.unlock('never-locked')").error


def test_mutex_object(run):
    got = values(run("""
        local m = thread.mutex()
        m:lock() m:lock()             -- re-entrant for the holder
        local again = m:trylock()
        m:unlock() m:unlock() m:unlock()
        return again, pcall(m.unlock, m)"""))
    assert got[0] is True and got[1] is False and b"does not hold" in got[2]


def test_run_in_pool_returns_results_limits_concurrency_and_reports_stats(rt, run):
    rt.config = None
    started = time.monotonic()
    got = values(run("""
        local results = {}
        for i = 1, 3 do results[i] = msys.runInPool("work", function() return i * 10 end) end
        local a, b = msys.runInPool("work", function() return "x", "y" end)
        local queued = msys.runInPool("work", function() msys.sleep(0.01) end, true)
        local s = msys.threadpool.stat("work")
        return table.concat(results, ","), a .. b, queued, msys.threadpool.count(),
               msys.threadpool.find("work"), msys.threadpool.find(1), s.concurrency,
               s.completed, msys.threadpool.stat("none"), msys.asyncOk()"""))
    assert got == (b"10,20,30", b"xy", True, 1, 1, b"work", 4, 4, None, True)
    assert time.monotonic() - started < 2
    assert "job failed in pool work" in run(
        "msys.runInPool('work', function() error('inner boom') end)").error
