"""One (binding, domain) pair's queues: active, delayed, connections in use, counters.

Created and owned by queue/manager.py (``QueueManager.queue_for``); read by admin.py
for statistics. Holds message IDs and small per-queue state only; never touches the
spool, the clock or configuration (the manager passes values in).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .active import ActiveQueue
from .delayed import DelayedQueue

DEFAULT_BINDING = "default"


@dataclass
class DomainQueue:
    """The queues of one (binding, domain); see the module docstring."""

    binding: str
    domain: str
    active: ActiveQueue = field(default_factory=ActiveQueue)
    delayed: DelayedQueue = field(default_factory=DelayedQueue)
    in_flight: int = 0              # delivery hand-offs (connections) running now
    suspended: bool = False         # by an administrator (suspend_delivery is config)
    throttled_until: float = 0.0    # no hand-off before this time (rate windows full)
    last_error: str | None = None
    delivered: int = 0
    transient_failures: int = 0
    permanent_failures: int = 0
    # domain-level deferral (deferral.py)
    unreachable_streak: int = 0     # consecutive hand-offs that reached no host
    unreachable_since: float | None = None
    deferred_until: float = 0.0     # no hand-off before this; arrivals go to delayed
    deferrals: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.binding, self.domain)

    @property
    def depth(self) -> int:
        return len(self.active) + len(self.delayed)

    def is_idle(self) -> bool:
        """Nothing queued and nothing in flight: the manager may forget this queue."""
        return self.depth == 0 and self.in_flight == 0 and not self.suspended
