"""QueueManager: owns every outbound queue, assigns bindings, hands messages to delivery.

Who calls it: queue/service.py builds one per daemon (``start``/``stop``, ``config``
swapped on reload); the SMTP side calls ``admit(stored_batch)`` after a successful
spool store; queue/admin.py drives the console operations through the primitives at
the bottom. It never reads message bodies except to hand one to the DSN builder,
never speaks SMTP (the DeliveryEngine does), and never sleeps on the wall clock (the
injected Clock decides, so tests control time). Results are applied by
ResultsMixin (queue/results.py).

Per (binding, routing domain) a DomainQueue (active + delayed). The binding comes from
bindings.py (the policy's binding, else a member of its binding_group, else
``default``; ``default_binding`` decides whether the default one delivers); the
routing domain is the message context's ``routing_domain`` (Lua
``msg:routing_domain``) or the recipient's domain: its queue, options, routes and MX
are used, while RCPT TO keeps the recipient. One scheduler greenlet (``_pump``)
repeatedly: fails messages whose expiry passed (whatever queue they sit in), moves
due delayed messages to their active queue, and starts delivery greenlets for every
ready queue within ``max_outbound_connections`` (per binding+domain),
``server_max_outbound_connections`` (per binding and server-wide, counting the
engine's idle pooled connections too: idle ones of other queues are closed, oldest
first, to make room) and the ``outbound_throttle_*`` windows. A queue at its limits
is skipped, never waited on, so one slow domain cannot block another. A hand-off is
one connection's worth: up to ``max_deliveries_per_connection`` messages, or
``max_recipients_per_batch`` when that is 0 (unlimited).

Memory (``max_resident_messages`` / ``max_resident_active_queue``): the queues hold
message IDs; each queued message costs one QueuedMessage (slotted) plus its IDs in a
queue and a timer, ~0.42 KB, and the spool's own index entry (core/spool_records
SpooledMessage with its envelope), ~1.2 KB for a one-recipient message (measured with
tracemalloc over 100k messages; recipients of one batch share an envelope). Bodies are
never resident: the engine reads one body per transaction. So 1 million queued
messages hold ~1.65 GB, and the default 32768 about 50 MB. Swapping metadata out
would have to happen in the spool's index (core/spool.py keeps every SpooledMessage),
not here, so the queue enforces the bound that matters: the number of messages held.
Above ``max_resident_messages`` (global or per binding) the manager says so once per
crossing in the log with the count and the estimated memory, and
``over_resident_limit()`` turns true (the SMTP side can tempfail new mail with
``451 4.3.1`` while it is). ``max_resident_active_queue`` (how many active-queue
messages keep their body in memory, in Momentum) has no work to do here: an active
queue is a deque of IDs, and no body is resident outside a running transaction.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable

import gevent
import gevent.event
import gevent.pool

from ecelerity._speedups.timerq import TimerQueue

from . import connection_budget, deferral
from .bindings import DEFAULT_BINDING, BindingChooser, default_binding_mode
from .clock import Clock, SystemClock
from .domain_queue import DomainQueue
from .entry import (ACTIVE, DELAYED, FINISHING, IN_FLIGHT, NO_RESULT, Observer, QueuedMessage,
                    Reason, reason_text, routing_domain)
from .results import ResultsMixin
from .retry import MAX_TIME_REASON, NOT_ATTEMPTED_REASON, RetryPolicy
from .throttle import ThrottleBook

__all__ = ["ACTIVE", "DELAYED", "FINISHING", "IN_FLIGHT", "NO_RESULT", "QueueManager",
           "QueuedMessage", "Reason", "reason_text"]
BYTES_PER_QUEUED_MESSAGE = 1660   # measured, see the module docstring


def _default_dsn_builder() -> Callable[..., Any] | None:
    try:
        from ecelerity.bounce.dsn import build_dsn
    except ImportError:
        return None
    return build_dsn


class QueueManager(ResultsMixin):
    """See the module docstring."""

    def __init__(self, config: Any, spool: Any, engine: Any, *, clock: Clock | None = None,
                 dsn_builder: Callable[..., Any] | None | str = "default",
                 log: Callable[[str], None] | None = None,
                 chooser: BindingChooser | None = None) -> None:
        self._config = config
        self._policies_of: Any = None   # the config self._policies were read from
        self._policies: dict[tuple[str, str], RetryPolicy] = {}
        self.spool = spool
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.dsn_builder = _default_dsn_builder() if dsn_builder == "default" else dsn_builder
        self.log = log or (lambda text: None)
        self.chooser = chooser or BindingChooser()
        self.observers: list[Observer] = []
        self.suspended_bindings: set[str] = set()
        self.suspended_domains: set[str] = set()
        self._queues: dict[tuple[str, str], DomainQueue] = {}
        self._entries: dict[str, QueuedMessage] = {}
        self._expiry = TimerQueue()          # message id -> expires_at
        self._delayed_index = TimerQueue()   # queue key -> its earliest delayed due time
        self._ready: dict[tuple[str, str], None] = {}
        self._in_flight_total = 0
        self._in_flight_by_binding: Counter[str] = Counter()
        self._held_by_binding: Counter[str] = Counter()
        self._over_resident: set[str] = set()   # "" (global) or binding names over the limit
        self._throttles = ThrottleBook()
        self._wake = gevent.event.Event()
        self._workers = gevent.pool.Group()
        self._pump_greenlet: gevent.Greenlet | None = None

    @property
    def config(self) -> Any:
        return self._config

    @config.setter
    def config(self, new_config: Any) -> None:
        """A reload: new options; bind addresses are re-checked for group picks."""
        self._config = new_config
        self.chooser.forget_plumbing()

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        if self._pump_greenlet is None:
            self._pump_greenlet = gevent.spawn(self._pump)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop dispatching; let running deliveries finish for ``timeout`` s, then cut them."""
        if self._pump_greenlet is not None:
            self._pump_greenlet.kill()
            self._pump_greenlet = None
        self._workers.join(timeout=max(0.0, timeout))
        self._workers.kill(timeout=1.0)

    def wake(self) -> None:
        self._wake.set()

    # -- admission ----------------------------------------------------------------------
    def admit(self, batch: Any) -> None:
        """Queue the messages of a StoredBatch (the SMTP side's hook after ``spool.store``)."""
        self.admit_messages(batch.messages)

    def admit_messages(self, messages: Iterable[Any]) -> None:
        """Queue spooled messages (spool-in at start-up, DSNs, new mail) by their retry state."""
        now = self.clock.now()
        for message in messages:
            if message.removed or message.id in self._entries:
                continue
            queue = self.queue_for(self.assign_binding(message), routing_domain(message))
            policy = self.retry_policy(queue)
            entry = QueuedMessage(message, queue.key, policy.expires_at(message.created))
            self._hold(entry)
            if entry.expires_at <= now:
                if policy.never_attempt_expired:
                    self.detach(entry)
                    self._workers.spawn(self.fail, entry, None, NOT_ATTEMPTED_REASON)
                    continue
                # one last attempt, within one retry interval (then it fails on expiry)
                entry.last_chance = True
                entry.expires_at = now + policy.retry_interval
                self._expiry.push(entry.expires_at, message.id)
                self.to_active(entry, queue, front=True)
                continue
            self._expiry.push(entry.expires_at, message.id)
            if message.next_attempt > now:
                self.to_delayed(entry, queue, message.next_attempt)
            else:
                self.to_active(entry, queue)
        self._check_resident()
        self.wake()

    def retry_policy(self, queue: DomainQueue) -> RetryPolicy:
        """The queue's RetryPolicy, read once per configuration (not once per message)."""
        if self._policies_of is not self.config:
            self._policies_of, self._policies = self.config, {}
        policy = self._policies.get(queue.key)
        if policy is None:
            policy = self._policies[queue.key] = RetryPolicy.from_config(
                self.config, binding=self.config_binding(queue.binding), domain=queue.domain)
        return policy

    def assign_binding(self, message: Any, *, current: str | None = None) -> str:
        """The binding ``message`` leaves from (bindings.py). A binding stored on the
        message (``spool.update(binding=...)``: reroute, rebind) is kept while the
        configuration has it; with ``current`` (rebind) the assignment is re-run, and
        ``current`` kept when it is still a usable pick of the message's group."""
        if current is None and message.binding and self.config.has_binding(message.binding):
            return message.binding
        return self.chooser.choose(self.config, binding=message.envelope.binding,
                                   group=message.envelope.binding_group,
                                   suspended=self.binding_suspended, current=current)

    def queue_for(self, binding: str, domain: str) -> DomainQueue:
        key = (binding, domain.lower())
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = DomainQueue(binding, key[1])
        return queue

    def in_flight(self, binding: str, domain: str) -> int:
        """Hand-offs under way for (binding, domain); 0 for a queue never seen."""
        queue = self._queues.get((binding, domain.lower()))
        return queue.in_flight if queue is not None else 0

    # -- residency (see the module docstring) ---------------------------------------------
    def _hold(self, entry: QueuedMessage) -> None:
        self._entries[entry.message.id] = entry
        self._held_by_binding[entry.key[0]] += 1

    def over_resident_limit(self, binding: str | None = None) -> bool:
        """True while more messages are held than ``max_resident_messages`` allows
        (server-wide, or for ``binding``)."""
        return "" in self._over_resident or (binding is not None and binding in self._over_resident)

    def _check_resident(self) -> None:
        server_limit = self.config.get("max_resident_messages")
        self._note_resident("", len(self._entries), server_limit)
        for binding, count in self._held_by_binding.items():
            limit = self.config.get("max_resident_messages", binding=self.config_binding(binding))
            if limit != server_limit or binding in self._over_resident:   # set for the binding
                self._note_resident(binding, count, limit)

    def _note_resident(self, scope: str, held: int, limit: int) -> None:
        if limit and held > limit:
            if scope not in self._over_resident:
                self._over_resident.add(scope)
                where = f"binding {scope}" if scope else "the server"
                self.log(f"queue: {held} messages held for {where}, above max_resident_messages "
                         f"= {limit}: about {held * BYTES_PER_QUEUED_MESSAGE / 2**20:.1f} MB of "
                         "queue metadata in memory (bodies stay on disk)")
        elif scope in self._over_resident and held <= limit * 0.9:
            self._over_resident.discard(scope)
            self.log(f"queue: {held} messages held for {f'binding {scope}' if scope else 'the server'}, "
                     f"back under max_resident_messages = {limit}")

    # -- the scheduler ------------------------------------------------------------------
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

    def is_suspended(self, queue: DomainQueue) -> bool:
        return (queue.suspended or queue.domain in self.suspended_domains
                or self.binding_suspended(queue.binding)
                or bool(self.config.get("suspend_delivery", binding=self.config_binding(queue.binding),
                                        domain=queue.domain)))

    def binding_suspended(self, binding: str) -> bool:
        """Held by an administrator, by ``suspend_delivery`` at binding level, or (the
        default binding) by ``default_binding = suspended | none``."""
        if binding in self.suspended_bindings:
            return True
        if binding == DEFAULT_BINDING and default_binding_mode(self.config) != "normal":
            return True
        return bool(self.config.get("suspend_delivery", binding=self.config_binding(binding)))

    def config_binding(self, binding: str) -> str:
        """The binding whose options apply: ``default`` for one the configuration lacks
        (a message spooled under a binding that a reload or restart removed)."""
        return binding if self.config.has_binding(binding) else DEFAULT_BINDING

    def _expire(self, message_id: str) -> None:
        entry = self._entries.get(message_id)
        if entry is None or entry.state in (IN_FLIGHT, FINISHING):
            return  # in flight: the result decides (a transient result fails it then)
        self.detach(entry)
        self._workers.spawn(self.fail, entry, None, MAX_TIME_REASON)


    # -- primitives (admin.py and the above) ----------------------------------------------
    def entry(self, message_id: str) -> QueuedMessage | None:
        return self._entries.get(message_id)

    def queues(self) -> list[DomainQueue]:
        return list(self._queues.values())

    def _rekey(self, entry: QueuedMessage, queue: DomainQueue) -> None:
        if entry.key != queue.key:
            if entry.key[0] != queue.binding and self._entries.get(entry.message.id) is entry:
                self._held_by_binding[entry.key[0]] -= 1
                self._held_by_binding[queue.binding] += 1
            entry.key = queue.key

    def to_active(self, entry: QueuedMessage, queue: DomainQueue, *, front: bool = False) -> None:
        self._rekey(entry, queue)
        entry.state = ACTIVE
        queue.active.append(entry.message.id, front=front)
        self._ready[queue.key] = None

    def to_delayed(self, entry: QueuedMessage, queue: DomainQueue, due_at: float) -> None:
        self._rekey(entry, queue)
        entry.state = DELAYED
        queue.delayed.add(entry.message.id, due_at)
        self.index_delayed(queue)

    def sweep_to_delayed(self, queue: DomainQueue, due_at: float) -> int:
        """Move every active message of ``queue`` to its delayed queue, due at ``due_at``
        (no attempt is spent: the spooled retry state is left alone)."""
        swept = 0
        for message_id in queue.active.take(len(queue.active)):
            entry = self._entries.get(message_id)
            if entry is not None and entry.state == ACTIVE:
                self.to_delayed(entry, queue, due_at)
                swept += 1
        return swept

    def index_delayed(self, queue: DomainQueue) -> None:
        due = queue.delayed.next_due()
        if due is None:
            self._delayed_index.remove(queue.key)
        elif self._delayed_index.due_of(queue.key) != due:
            self._delayed_index.push(due, queue.key)

    def detach(self, entry: QueuedMessage) -> None:
        """Take a queued (active or delayed) message out of its queue; it stays known."""
        queue = self._queues.get(entry.key)
        if queue is not None:
            queue.active.remove(entry.message.id)
            if queue.delayed.remove(entry.message.id):
                self.index_delayed(queue)
        entry.state = FINISHING

    def _forget(self, entry: QueuedMessage) -> None:
        if self._entries.get(entry.message.id) is entry:
            del self._entries[entry.message.id]
            self._held_by_binding[entry.key[0]] -= 1
        self._expiry.remove(entry.message.id)


def _peek_due(timers: TimerQueue) -> float | None:
    top = timers.peek()
    return None if top is None else top[0]
