"""Reused worker coroutines (runtime.call): a script's stray yield, errors and budget
failures never leak one call's state into the next."""
from __future__ import annotations

from .conftest import values


def test_a_stray_yield_fails_the_call_and_the_worker_is_not_reused(rt, run):
    env = rt.load_source("""
        function sneaky(x) local got = coroutine.yield("pretend-done", x) return got end
        function honest(x) return "honest " .. x end""", "w")
    failed = rt.call(env[b"sneaky"], b"secret-of-session-1")
    assert not failed.ok and "coroutine.yield outside" in failed.error
    # the next call starts afresh: it does not resume the sneaky script with our args
    assert values(rt.call(env[b"honest"], b"two")) == (b"honest two",)
    assert values(rt.call(env[b"honest"], b"three")) == (b"honest three",)


def test_workers_are_reused_after_errors_and_budget_failures(rt, run):
    env = rt.load_source("""
        function boom() error("nope") end
        function spin() while true do end end
        function add(a, b) return a + b end""", "w2")
    assert "nope" in rt.call(env[b"boom"]).error
    assert "instruction budget exceeded" in rt.call(env[b"spin"]).error
    for i in range(50):
        assert values(rt.call(env[b"add"], i, 1)) == (i + 1,)
    assert len(rt._idle_workers) == 1  # one worker served every sequential call
    assert values(run("return coroutine.wrap(function() coroutine.yield(7) end)()")) == (7,)
