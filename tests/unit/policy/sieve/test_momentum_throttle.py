"""Named throttles: quota, window roll-over, eviction (LRU and idle), and the Sieve++ calls."""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve import MessageView, compile_script, run_script
from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache, parse_rate
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.vctx import ValidationContext


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_quota_window_and_idle_eviction():
    clock = Clock()
    cache = ThrottleCache(10, clock)
    cache.create("t", "2/10")
    for _ in range(2):
        assert cache.add("t", 1)
    assert not cache.over("t")
    cache.add("t", 1)
    assert cache.over("t") and cache.wait_time("t") == pytest.approx(10)
    clock.now += 10  # new window
    assert not cache.over("t")
    clock.now += 11.5  # unused for interval + 1 s: evicted
    assert not cache.add("t", 1) and len(cache) == 0


def test_lru_eviction_and_create_is_a_no_op_when_present():
    cache = ThrottleCache(2, Clock())
    cache.create("a", "1/60")
    cache.add("a", 5)
    cache.create("a", "100/60")  # no-op: keeps its count and quota
    assert cache.over("a")
    cache.create("b", "1/60")
    cache.create("c", "1/60")  # evicts the least recently used ("a")
    assert not cache.add("a", 1) and cache.add("b", 1) and cache.add("c", 1)


@pytest.mark.parametrize("bad", ["10", "x/5", "5/0", "-1/5", ""])
def test_bad_rates_are_refused(bad):
    with pytest.raises(ValueError):
        parse_rate(bad)


def test_sieve_throttle_calls_share_the_hosts_cache():
    cache = ThrottleCache(100)
    src = '''ec_throttle_create "peer" "1/60";
             ec_throttle_inc "peer";
             $over = ec_throttle_check "peer";
             if ec_test :is $over "true" { ec_action 451 "4.7.1 slow down"; }'''
    script = compile_script(src, "t.siv")
    outcomes = []
    for _ in range(3):
        host = PolicyHost(ValidationContext(), throttles=cache, can_sleep=False)
        run_script(script, MessageView(b""), host=host)
        outcomes.append(host.outcome.code if host.outcome else None)
    assert outcomes == [None, 451, 451]


def test_throttle_tarpit_waits_out_the_window():
    cache = ThrottleCache(100)
    host = PolicyHost(ValidationContext(), throttles=cache, can_sleep=False)
    script = compile_script('ec_throttle_create "x" "0/30"; $t = ec_throttle_tarpit "x";'
                            'vctx_mess_set "t" $t;', "tt.siv")
    run_script(script, MessageView(b""), host=host)
    assert host.vctx.mess["t"] == "true" and 29 < host.vctx.tarpitted_seconds <= 30


def test_idle_eviction_per_throttle_with_different_intervals():
    clock = Clock()
    cache = ThrottleCache(10, clock)
    cache.create("long", "5/100")
    clock.now += 50
    cache.create("short", "5/2")
    clock.now += 2.5  # neither idle past its interval + 1 s yet
    assert cache.add("short", 1) and cache.add("long", 1)
    clock.now += 3.6  # short idle 3.6 s > 2 + 1: gone; long used 3.6 s ago: kept
    assert not cache.over("short") and not cache.add("short", 1)
    assert cache.add("long", 1) and len(cache) == 1
    clock.now += 101.5
    assert not cache.add("long", 1) and len(cache) == 0
    cache.create("again", "1/1")  # a new throttle after everything expired is tracked again
    clock.now += 2.5
    assert not cache.add("again", 1) and len(cache) == 0
