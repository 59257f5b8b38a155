"""When a delay DSN (action=delayed) is due for a message that just failed transiently.

Who calls it: queue/manager.py after a transient failure that will be retried, when
``generate_delay_dsn`` is on for the message's (binding, domain). Pure arithmetic; the
manager builds and queues the DSN (bounce/dsn.py, which also honours NOTIFY and the
null sender). Never touches the spool or the clock.

Schedule (our reading of ``delay_dsn_retry_interval`` / ``delay_dsn_max_retry_interval``,
momentum-facts.md §6): notice thresholds at ``created + I``, then each gap doubles,
capped at M: with I=3600, M=43200 -> 1 h, 3 h, 7 h, 15 h, 27 h, 39 h (+12 h each...).
A delay DSN is sent at a transient failure when a threshold was crossed since the
previous failure: at most one per failure, however many thresholds were crossed.

Stateless on purpose: the previous failure time is recomputed from the spooled retry
state (``next_attempt`` minus the back-off that produced it), so a restart neither
repeats nor forgets a notice, and nothing new has to be written to the spool.
"""
from __future__ import annotations

from .retry import RetryPolicy, backoff_delay

_MAX_STEPS = 10_000  # thresholds past any sane expiry; bounds the loop


def last_threshold(created: float, now: float, first: float, cap: float) -> float | None:
    """The latest notice threshold at or before ``now`` (None when none has passed)."""
    if first <= 0:
        return None
    gap, at, last = float(first), created + first, None
    for _ in range(_MAX_STEPS):
        if at > now:
            return last
        last = at
        gap = min(gap * 2, cap) if cap > 0 else gap * 2
        if cap > 0 and gap >= cap:
            # capped from here on: jump straight to the last threshold <= now
            steps = int((now - at) // cap)
            return at + steps * cap if steps else last
        at += gap
    return last


def previous_failure(retries: int, next_attempt: float, created: float,
                     policy: RetryPolicy) -> float:
    """When the message last failed (``created`` when it never has), from its retry state."""
    if retries <= 0:
        return created
    return next_attempt - backoff_delay(retries, policy.retry_interval, policy.max_retry_interval)


def delay_dsn_due(*, created: float, retries: int, next_attempt: float, now: float,
                  policy: RetryPolicy, first: float, cap: float) -> bool:
    """True when this failure (at ``now``) crossed a notice threshold; ``retries`` and
    ``next_attempt`` are the spooled values from before this failure."""
    threshold = last_threshold(created, now, first, cap)
    if threshold is None:
        return False
    return threshold > previous_failure(retries, next_attempt, created, policy)
