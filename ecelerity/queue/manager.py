"""QueueManager: owns every outbound queue, assigns bindings, hands messages to delivery.

Who calls it: queue/service.py builds one per daemon (``start``/``stop``, ``config``
swapped on reload); the SMTP side calls ``admit(stored_batch)`` after a successful
spool store; queue/admin.py drives the console operations through the primitives at
the bottom. It never reads message bodies except to hand one to the DSN builder,
never speaks SMTP (the DeliveryEngine does), and never sleeps on the wall clock (the
injected Clock decides, so tests control time). Results are applied by
ResultsMixin (queue/results.py), scheduled by SchedulerMixin (queue/scheduler.py:
the ``_pump`` greenlet, limits and throttles), and counted against
``max_resident_messages`` by ResidencyMixin (queue/residency.py, with the memory
figures per queued message).

Per (binding, routing domain) a DomainQueue (active + delayed). The binding comes from
bindings.py (the policy's binding, else a member of its binding_group, else
``default``; ``default_binding`` decides whether the default one delivers); the
routing domain (entry.py ``routing_domain``) is the gateway a policy chose
(``ec_set_routing_gateway``: Momentum queues such mail under the gateway), else the
message context's ``routing_domain`` (Lua ``msg:routing_domain``), else the
recipient's domain: its queue, options, limits, throttles, routes and MX are used,
while RCPT TO keeps the recipient. This module holds the state (queues,
entries, timers, counters), admission, the binding and suspension answers, and the
primitives that move a message between states (per-message code: keep it lean).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable

import gevent
import gevent.event
import gevent.pool

from ecelerity._speedups.timerq import TimerQueue

from .bindings import DEFAULT_BINDING, BindingChooser, default_binding_mode
from .clock import Clock, SystemClock
from .domain_queue import DomainQueue
from .entry import (ACTIVE, DELAYED, FINISHING, IN_FLIGHT, NO_RESULT, Observer, QueuedMessage,
                    Reason, reason_text, routing_domain)
from .residency import BYTES_PER_QUEUED_MESSAGE, ResidencyMixin
from .results import ResultsMixin
from .retry import NOT_ATTEMPTED_REASON, RetryPolicy
from .scheduler import SchedulerMixin
from .throttle import ThrottleBook

__all__ = ["ACTIVE", "DELAYED", "FINISHING", "IN_FLIGHT", "NO_RESULT", "QueueManager",
           "QueuedMessage", "Reason", "reason_text", "BYTES_PER_QUEUED_MESSAGE"]


def _default_dsn_builder() -> Callable[..., Any] | None:
    try:
        from ecelerity.bounce.dsn import build_dsn
    except ImportError:
        return None
    return build_dsn


class QueueManager(SchedulerMixin, ResidencyMixin, ResultsMixin):
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

