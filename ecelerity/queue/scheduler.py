"""The queue scheduler: one pass expires, wakes delayed messages and starts hand-offs.

Who calls it: queue/manager.py's QueueManager inherits SchedulerMixin and runs
``_pump`` in one greenlet from ``start``; tests drive ``run_pending`` with a
ManualClock. A pass fails messages whose expiry passed (whatever queue they sit in),
moves due delayed messages to their active queue, and starts delivery greenlets for
every ready queue within ``max_outbound_connections`` (per binding+domain),
``server_max_outbound_connections`` (per binding and server-wide, counting the
engine's idle pooled connections too: idle ones of other queues are closed, oldest
first, to make room) and the ``outbound_throttle_*`` windows. A queue at its limits
is skipped, never waited on, so one slow domain cannot block another. A hand-off is
one connection's worth: up to ``max_deliveries_per_connection`` messages, or
``max_recipients_per_batch`` when that is 0 (unlimited). Per-hand-off code: keep it
lean. It never sleeps on the wall clock (the injected Clock decides), never speaks
SMTP and never lets one bad pass stop the scheduler.
"""
from __future__ import annotations

from typing import Any, Callable

from ecelerity._speedups.timerq import TimerQueue

from . import connection_budget, deferral
from .domain_queue import DomainQueue
from .entry import DELAYED, FINISHING, IN_FLIGHT, QueuedMessage
from .retry import MAX_TIME_REASON
from .throttle import ThrottleBook


class SchedulerMixin:
    """The scheduling half of QueueManager; the attributes it uses are set by the manager
    (the methods it calls live in manager.py, residency.py and results.py)."""

    config: Any
    engine: Any
    clock: Any
    log: Callable[[str], None]
    _queues: dict[tuple[str, str], DomainQueue]
    _entries: dict[str, QueuedMessage]
    _expiry: TimerQueue
    _delayed_index: TimerQueue
    _ready: dict[tuple[str, str], None]
    _in_flight_total: int
    _in_flight_by_binding: Any
    _over_resident: set[str]
    _throttles: ThrottleBook
    _wake: Any
    _workers: Any

    def _pump(self) -> None:
        while True:
            self._wake.clear()
            try:
                deadline = self.run_pending()
            except Exception as exc:  # noqa: BLE001 - the scheduler must survive a bad pass
                self.log(f"queue: scheduler pass failed: {type(exc).__name__}: {exc}")
                deadline = self.clock.now() + 1.0
            self.clock.wait(self._wake, deadline)

    def run_pending(self) -> float | None:
        """One scheduling pass; returns when the next one is due (None: only on a wake)."""
        now = self.clock.now()
        for message_id in self._expiry.pop_due(now):
            self._expire(message_id)
        for key in self._delayed_index.pop_due(now):
            queue = self._queues.get(key)
            if queue is None:
                continue
            for message_id in queue.delayed.pop_due(now):
                entry = self._entries.get(message_id)
                if entry is not None and entry.state == DELAYED:
                    self.to_active(entry, queue)
            self.index_delayed(queue)
        next_throttle: float | None = None
        for key in list(self._ready):
            queue = self._queues[key]
            if not queue.active:
                del self._ready[key]
                continue
            if not self._dispatch(queue, now) and queue.throttled_until > now:
                if next_throttle is None or queue.throttled_until < next_throttle:
                    next_throttle = queue.throttled_until
        if self._over_resident:
            self._check_resident()
        candidates = [t for t in (next_throttle, _peek_due(self._expiry),
                                  _peek_due(self._delayed_index)) if t is not None]
        return min(candidates, default=None)

    def _dispatch(self, queue: DomainQueue, now: float) -> bool:
        """Start deliveries for ``queue`` up to its limits; False when limits stopped it."""
        cfg, binding, domain = self.config, self.config_binding(queue.binding), queue.domain
        if self.engine is None or self.is_suspended(queue) or queue.throttled_until > now:
            return False
        if deferral.is_deferred(queue, now):
            self.sweep_to_delayed(queue, queue.deferred_until)
            return False
        limit = cfg.get("max_outbound_connections", binding=binding, domain=domain)
        binding_limit = cfg.get("server_max_outbound_connections", binding=binding)
        server_limit = cfg.get("server_max_outbound_connections")
        handoff = (cfg.get("max_deliveries_per_connection", binding=binding, domain=domain)
                   or cfg.get("max_recipients_per_batch", binding=binding, domain=domain))
        started = 0
        while queue.active:
            if (queue.in_flight >= limit or self._in_flight_by_binding[queue.binding] >= binding_limit
                    or self._in_flight_total >= server_limit):
                return False
            retire = connection_budget.make_room(
                self.engine, queue.binding, domain, started=started,
                total=(self._in_flight_total, server_limit),
                per_binding=(self._in_flight_by_binding[queue.binding], binding_limit))
            if retire is None:
                return False
            connections = self._throttles.window(cfg, "outbound_throttle_connections",
                                                 binding=binding, domain=domain)
            messages = self._throttles.window(cfg, "outbound_throttle_messages",
                                              binding=binding, domain=domain)
            count = handoff
            for window in (connections, messages):
                if window is not None and window.available(now) < 1:
                    queue.throttled_until = window.next_free(now)
                    return False
            if messages is not None:
                count = min(count, messages.available(now))
            batch = [self._entries[mid] for mid in queue.active.take(count)]
            if connections is not None:
                connections.take(now)
            if messages is not None:
                messages.take(now, len(batch))
            for entry in batch:
                entry.state = IN_FLIGHT
            started += 1
            queue.in_flight += 1
            self._in_flight_total += 1
            self._in_flight_by_binding[queue.binding] += 1
            self._workers.spawn(self._deliver, queue, batch, retire)
        return True

    def _expire(self, message_id: str) -> None:
        entry = self._entries.get(message_id)
        if entry is None or entry.state in (IN_FLIGHT, FINISHING):
            return  # in flight: the result decides (a transient result fails it then)
        self.detach(entry)
        self._workers.spawn(self.fail, entry, None, MAX_TIME_REASON)



def _peek_due(timers: TimerQueue) -> float | None:
    top = timers.peek()
    return None if top is None else top[0]
