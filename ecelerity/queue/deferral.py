"""Domain-level deferral: stop burning connections on a (binding, domain) nobody can reach.

Who calls it: queue/manager.py, once per finished delivery hand-off
(``note_handoff``), and before dispatching a queue (``is_deferred``). Pure bookkeeping
on the DomainQueue's fields; never sleeps, never reads configuration itself (the
manager passes the option values) and never moves messages (the manager sweeps).

Rules (momentum-facts.md §6, our reading):
- A hand-off is "unreachable" when every result in it failed transiently before a
  transaction started: no connection, no banner, EHLO/STARTTLS/TLS refused, or no
  route (DNS temporary failure, no valid hosts). The engine tries every target of
  the domain before giving up, so one unreachable hand-off is one failure on every MX.
  Any other result (a delivery, a reply to MAIL/RCPT/DATA, a permanent failure) proves
  the domain reachable and resets the streak.
- ``mx_failures_to_delay = N`` (0 disables): after N consecutive unreachable
  hand-offs the domain is deferred.
- ``connect_timeout_to_delay = S`` (0 disables): when the domain has been unreachable
  for S seconds (since the first failure of the streak) it is deferred.
- Deferred means: until ``now + retry_interval`` no hand-off starts; the active
  queue, and whatever arrives meanwhile, is swept into the delayed queue due at that
  time. Sweeping does not count as an attempt (retries are not spent). When the time
  comes the queue is tried again; the streak is kept, so one more unreachable hand-off
  defers it again at once, and a reachable one clears it.
"""
from __future__ import annotations

from typing import Any, Iterable

from ecelerity.delivery.client import (AFTER_EHLO, AFTER_STARTTLS, BANNER, EHLO, NOT_CONNECTED,
                                       STARTTLS, TLS_HANDSHAKE)

from .domain_queue import DomainQueue

SETUP_STAGES = frozenset({NOT_CONNECTED, BANNER, EHLO, AFTER_EHLO, STARTTLS, AFTER_STARTTLS,
                          TLS_HANDSHAKE})


def unreachable(results: Iterable[Any | None]) -> bool:
    """True when every result is a transient failure before any transaction started."""
    seen = False
    for result in results:
        if result is None or result.outcome != "transient" or result.stage not in SETUP_STAGES:
            return False
        seen = True
    return seen


def note_handoff(queue: DomainQueue, results: list[Any | None], *, now: float,
                 mx_failures_to_delay: int, connect_timeout_to_delay: float,
                 retry_interval: float) -> bool:
    """Record one finished hand-off; True when the domain becomes deferred now."""
    if not unreachable(results):
        queue.unreachable_streak = 0
        queue.unreachable_since = None
        return False
    queue.unreachable_streak += 1
    if queue.unreachable_since is None:
        queue.unreachable_since = now
    too_many = 0 < mx_failures_to_delay <= queue.unreachable_streak
    too_long = 0 < connect_timeout_to_delay <= now - queue.unreachable_since
    if not (too_many or too_long):
        return False
    queue.deferred_until = max(queue.deferred_until, now + max(1.0, retry_interval))
    queue.deferrals += 1
    return True


def is_deferred(queue: DomainQueue, now: float) -> bool:
    return queue.deferred_until > now


def clear(queue: DomainQueue) -> None:
    """An administrator's flush: forget the deferral (the streak stays)."""
    queue.deferred_until = 0.0
