"""retry.py: the back-off schedule, max_retries auto/none/N, never_retry, expiry decisions."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.loader import load_config_text
from ecelerity.queue.retry import (
    MAX_RETRIES_REASON,
    MAX_TIME_REASON,
    RetryPolicy,
    after_transient,
    auto_max_retries,
    backoff_delay,
)


def test_backoff_doubles_from_retry_interval_and_is_capped():
    assert [backoff_delay(n, 1200, 43200) for n in range(1, 8)] == [
        1200, 2400, 4800, 9600, 19200, 38400, 43200]
    assert backoff_delay(10_000, 1, 50) == 50  # no overflow for absurd counts
    with pytest.raises(ValueError):
        backoff_delay(0, 1200, 43200)


def test_uncapped_sum_from_the_docs():
    # momentum-facts §6: without the cap five retries would wait 37200 s in all
    assert sum(backoff_delay(n, 1200, 10**9) for n in range(1, 6)) == 37200


def schedule(policy: RetryPolicy, created: float = 0.0) -> tuple[list[float], tuple]:
    """Attempt times until the policy fails the message (every attempt fails transiently).

    As in the manager, a retry due at or after expiry never happens: the expiry timer
    fails the message first.
    """
    attempts, now, failures = [], created, 0
    while True:
        attempts.append(now)
        failures += 1
        decision = after_transient(policy, failures=failures, created=created, now=now)
        if not decision.retry:
            return attempts, decision.reason
        assert decision.next_attempt == now + backoff_delay(
            failures, policy.retry_interval, policy.max_retry_interval)
        if decision.next_attempt >= policy.expires_at(created):
            return attempts, MAX_TIME_REASON
        now = decision.next_attempt


def test_documented_worked_example():
    policy = RetryPolicy.from_options(retry_interval=1200, max_retry_interval=1200,
                                      max_retries=5, message_expiration=86400)
    attempts, reason = schedule(policy)
    assert attempts == [0, 1200, 2400, 3600, 4800, 6000]
    assert reason == MAX_RETRIES_REASON


def test_max_retries_none_runs_until_expiry():
    policy = RetryPolicy.from_options(retry_interval=100, max_retry_interval=400,
                                      max_retries="none", message_expiration=2000)
    attempts, reason = schedule(policy)
    assert attempts == [0, 100, 300, 700, 1100, 1500, 1900]  # 2300 is past expiry
    assert reason == MAX_TIME_REASON


def test_max_retries_zero_and_never_retry_fail_at_the_first_transient():
    for policy in (RetryPolicy.from_options(retry_interval=60, max_retry_interval=600,
                                            max_retries=0, message_expiration=3600),
                   RetryPolicy.from_options(retry_interval=60, max_retry_interval=600,
                                            max_retries="none", message_expiration=3600,
                                            never_retry=True)):
        assert schedule(policy) == ([0], MAX_RETRIES_REASON)


def test_auto_with_the_defaults_is_six():
    assert auto_max_retries(1200, 43200, 86400) == 6
    policy = RetryPolicy.from_config(load_config_text(""), binding=None, domain="x.test")
    assert policy.max_retries == 6
    attempts, reason = schedule(policy)
    assert attempts == [0, 1200, 3600, 8400, 18000, 37200, 75600]
    assert reason == MAX_RETRIES_REASON


@settings(max_examples=300, deadline=None)
@given(retry=st.integers(1, 5000), cap=st.integers(10, 50000), expiration=st.integers(0, 10**5))
def test_auto_is_the_largest_count_that_fits(retry, cap, expiration):
    auto = auto_max_retries(retry, cap, expiration)
    fits = sum(backoff_delay(n, retry, cap) for n in range(1, auto + 1))
    assert fits <= expiration
    assert fits + backoff_delay(auto + 1, retry, cap) > expiration


@settings(max_examples=300, deadline=None)
@given(retry=st.integers(1, 5000), cap_factor=st.integers(1, 64), periods=st.integers(1, 100),
       limit=st.one_of(st.just("none"), st.just("auto"), st.integers(0, 30)))
def test_retry_limits_and_expiry_both_hold(retry, cap_factor, periods, limit):
    cap = retry * cap_factor
    expiration = cap * periods
    policy = RetryPolicy.from_options(retry_interval=retry, max_retry_interval=cap,
                                      max_retries=limit, message_expiration=expiration)
    attempts, reason = schedule(policy)
    assert all(t < expiration for t in attempts)
    if policy.max_retries is not None:
        assert len(attempts) <= policy.max_retries + 1
        if reason == MAX_RETRIES_REASON:
            assert len(attempts) == policy.max_retries + 1
    if limit == "none":
        assert reason == MAX_TIME_REASON


def test_policy_reads_scoped_options():
    cfg = load_config_text(
        'Retry_Interval = 60\nMessage_Expiration = 600\n'
        'Domain "slow.test" { Retry_Interval = 300 Max_Retries = none Never_Retry = false }\n'
        'Domain "once.test" { Never_Retry = true Never_Attempt_Expired_Messages = true }\n')
    slow = RetryPolicy.from_config(cfg, binding=None, domain="slow.test")
    assert (slow.retry_interval, slow.max_retries, slow.message_expiration) == (300, None, 600)
    once = RetryPolicy.from_config(cfg, binding=None, domain="once.test")
    assert once.never_retry and once.never_attempt_expired and once.retry_interval == 60
    assert RetryPolicy.from_config(cfg, binding=None, domain="other.test").max_retries == \
        auto_max_retries(60, 43200, 600)
