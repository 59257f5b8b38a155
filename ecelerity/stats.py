"""The daemon's message counters: the one place the console, logs and metrics read them from.

Who writes: smtp/accept.py (``received`` after a successful spool store, ``rejected``
when a message's data is refused) and the queue manager, through the observer that
``attach`` registers in ``QueueManager.observers`` (delivered / transient / failed).
log/service.py counts failed log writes (``log_write_errors``, and ``log_disk_full``
for a full disk or quota).
Who reads: the console (``summary``, ``binding summary``, ``domain``), later logs
and metrics, through ``snapshot()`` and ``rates()``.

One Stats per App (``for_app(app)`` creates ``app.stats`` on first use). The
increments are tiny dictionary updates done in the hub: never block, never do I/O,
never raise into the caller (a counter must not cost a message).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

KINDS = ("received", "delivered", "failed", "transient", "rejected")
# counted by log/service.py for every failed log write (ENOSPC/EDQUOT also as disk full)
LOG_TROUBLE_KINDS = ("log_write_errors", "log_disk_full")
DEFAULT_BINDING = "default"


@dataclass
class Totals:
    """Counts of one scope (global, one binding or one domain)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, count: int = 1) -> None:
        self.counts[kind] += count

    def get(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    def as_dict(self) -> dict[str, int]:
        return {kind: self.get(kind) for kind in KINDS}


class Stats:
    """Counters since start (uptime) and since the last ``reset`` (rates, figures)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started_at = clock()
        self.reset_at = self.started_at
        self.total = Totals()
        self.by_binding: dict[str, Totals] = {}
        self.by_domain: dict[str, Totals] = {}
        self._observed: list[Any] = []  # managers we registered an observer with

    # -- writers ------------------------------------------------------------------------
    def record(self, kind: str, *, binding: str | None = None, domain: str | None = None,
               count: int = 1) -> None:
        """Count ``count`` events of ``kind`` (one of KINDS) for the binding and domain."""
        self.total.add(kind, count)
        if binding is not None or domain is not None:
            self.by_binding.setdefault(binding or DEFAULT_BINDING, Totals()).add(kind, count)
        if domain:
            self.by_domain.setdefault(domain.lower(), Totals()).add(kind, count)

    def received(self, messages: Iterable[Any]) -> None:
        """Spooled messages (one per recipient) just accepted."""
        for message in messages:
            self.record("received", binding=_binding_of(message), domain=message.domain)

    def rejected(self, count: int = 1) -> None:
        self.record("rejected", count=count)

    def observe(self, outcome: str, message: Any, detail: str) -> None:
        """The QueueManager observer: ``delivered`` / ``transient`` / ``failed``."""
        if outcome in ("delivered", "transient", "failed"):
            self.record(outcome, binding=_binding_of(message), domain=getattr(message, "domain", ""))

    def attach(self, manager: Any) -> None:
        """Register ``observe`` with a QueueManager once (idempotent)."""
        if manager is None or any(m is manager for m in self._observed):
            return
        manager.observers.append(self.observe)
        self._observed.append(manager)

    # -- readers ------------------------------------------------------------------------
    def reset(self) -> None:
        """``summary reset``: zero every counter; uptime is kept."""
        self.total = Totals()
        self.by_binding.clear()
        self.by_domain.clear()
        self.reset_at = self.clock()

    def uptime(self) -> float:
        return max(0.0, self.clock() - self.started_at)

    def since_reset(self) -> float:
        return max(0.0, self.clock() - self.reset_at)

    def rate(self, kind: str, totals: Totals | None = None) -> float:
        """Events of ``kind`` per second since the last reset (0 in the first second)."""
        elapsed = self.since_reset()
        value = (totals or self.total).get(kind)
        return value / elapsed if elapsed >= 1.0 else 0.0

    def binding(self, name: str) -> Totals:
        return self.by_binding.get(name, Totals())

    def domain(self, name: str) -> Totals:
        return self.by_domain.get(name.lower(), Totals())

    def snapshot(self) -> dict[str, Any]:
        return {
            **self.total.as_dict(),
            "delivery_rate": self.rate("delivered"),
            "reception_rate": self.rate("received"),
            "since_reset": self.since_reset(),
            "uptime": self.uptime(),
            **{kind: self.total.get(kind) for kind in LOG_TROUBLE_KINDS},
        }


def _binding_of(message: Any) -> str:
    binding = getattr(message, "binding", None)
    if binding is None:
        envelope = getattr(message, "envelope", None)
        binding = getattr(envelope, "binding", None)
    return binding or DEFAULT_BINDING


def for_app(app: Any) -> Stats:
    """The App's Stats (created on first use), attached to its queue manager when it has one."""
    stats = getattr(app, "stats", None)
    if not isinstance(stats, Stats):
        stats = Stats()
        app.stats = stats
    stats.attach(getattr(app, "queue_manager", None))
    return stats
