"""Retry, back-off and expiry arithmetic (momentum-facts.md §6). Pure functions, no I/O.

Who calls it: queue/manager.py, after a transient failure (``after_transient``) and
when a message enters a queue (``expires_at``). ``RetryPolicy.from_config`` reads the
options through the resolver for one (binding, domain); nothing else here touches
configuration.

Rules:
- delay after the n-th transient failure = ``retry_interval * 2^(n-1)``, capped by
  ``max_retry_interval``.
- ``max_retries = N``: the message gets N retries after its first attempt; the failure
  of attempt N+1 fails it (``554 5.4.7 [internal] exceeded max retries without
  delivery``). ``none``: only expiry limits it. ``never_retry``: the first transient
  failure fails it with the same reason.
- ``max_retries = auto`` (the docs leave the formula open; ours, an inference): the
  number of retries whose back-off delays, added up from the first, fit within
  ``message_expiration``. Defaults (1200, 43200, 86400): delays 1200, 2400, 4800,
  9600, 19200, 38400 add up to 75600 <= 86400; the next (43200) would not fit, so
  auto = 6. Like Momentum's, auto can trip before expiry when flushes spend retries.
- expiry: ``created + message_expiration``; a message still undelivered then fails
  with ``554 5.4.7 [internal] exceeded max time without delivery``, whatever queue
  it is in. A message already expired when it is loaded gets one last attempt unless
  ``never_attempt_expired_messages`` is true, in which case it fails with
  ``554 5.4.5 [internal] Delivery not attempted (message expired)``.

Worked example from the docs: retry_interval=1200, max_retry_interval=1200,
max_retries=5 -> attempts at 0, 1200, 2400, 3600, 4800, 6000; the failure at 6000
fails the message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_RETRIES_REASON = (554, "5.4.7", "[internal] exceeded max retries without delivery")
MAX_TIME_REASON = (554, "5.4.7", "[internal] exceeded max time without delivery")
NOT_ATTEMPTED_REASON = (554, "5.4.5", "[internal] Delivery not attempted (message expired)")

_MAX_DOUBLINGS = 62  # 2**62 seconds is far past any expiry; avoids huge ints


def backoff_delay(failures: int, retry_interval: float, max_retry_interval: float) -> float:
    """Seconds to wait after the ``failures``-th transient failure (1-based)."""
    if failures < 1:
        raise ValueError(f"backoff_delay: failures must be >= 1, got {failures}")
    delay = retry_interval * (2 ** min(failures - 1, _MAX_DOUBLINGS))
    return float(min(delay, max_retry_interval))


def auto_max_retries(retry_interval: float, max_retry_interval: float,
                     message_expiration: float) -> int:
    """How many retries' back-off delays fit within ``message_expiration`` (see above)."""
    if retry_interval <= 0:
        return 0  # no back-off at all: only expiry can end the retries sensibly
    total, retries = 0.0, 0
    while True:  # the doubling phase: at most ~62 steps
        delay = backoff_delay(retries + 1, retry_interval, max_retry_interval)
        if total + delay > message_expiration:
            return retries
        if delay >= max_retry_interval:  # capped from here on: the rest is arithmetic
            return retries + int((message_expiration - total) // delay)
        total += delay
        retries += 1


@dataclass(frozen=True)
class RetryPolicy:
    """The retry options in force for one (binding, domain)."""

    retry_interval: float = 1200.0
    max_retry_interval: float = 43200.0
    max_retries: int | None = None     # resolved: None = no limit ("none")
    message_expiration: float = 86400.0
    never_retry: bool = False
    never_attempt_expired: bool = False

    @classmethod
    def from_options(cls, *, retry_interval: float, max_retry_interval: float,
                     max_retries: str | int, message_expiration: float,
                     never_retry: bool = False,
                     never_attempt_expired: bool = False) -> RetryPolicy:
        if max_retries == "auto":
            limit: int | None = auto_max_retries(retry_interval, max_retry_interval,
                                                 message_expiration)
        elif max_retries == "none":
            limit = None
        else:
            limit = int(max_retries)
        return cls(float(retry_interval), float(max_retry_interval), limit,
                   float(message_expiration), bool(never_retry), bool(never_attempt_expired))

    @classmethod
    def from_config(cls, cfg: Any, *, binding: str | None, domain: str | None) -> RetryPolicy:
        def get(option: str) -> Any:
            return cfg.get(option, binding=binding, domain=domain)

        return cls.from_options(
            retry_interval=get("retry_interval"), max_retry_interval=get("max_retry_interval"),
            max_retries=get("max_retries"), message_expiration=get("message_expiration"),
            never_retry=get("never_retry"),
            never_attempt_expired=get("never_attempt_expired_messages"))

    def expires_at(self, created: float) -> float:
        return created + self.message_expiration


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a transient failure: retry at ``next_attempt``, or fail with a reason."""

    retry: bool
    next_attempt: float = 0.0
    reason: tuple[int, str, str] | None = None


def after_transient(policy: RetryPolicy, *, failures: int, created: float,
                    now: float) -> RetryDecision:
    """Decide after the ``failures``-th transient failure (``failures`` counts this one)."""
    if policy.never_retry:
        return RetryDecision(False, reason=MAX_RETRIES_REASON)
    if policy.max_retries is not None and failures > policy.max_retries:
        return RetryDecision(False, reason=MAX_RETRIES_REASON)
    if now >= policy.expires_at(created):
        return RetryDecision(False, reason=MAX_TIME_REASON)
    delay = backoff_delay(failures, policy.retry_interval, policy.max_retry_interval)
    return RetryDecision(True, next_attempt=now + delay)
