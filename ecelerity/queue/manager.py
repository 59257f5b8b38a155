"""QueueManager: owns every outbound queue, hands messages to delivery, applies results.

Who calls it: queue/service.py builds one per daemon (``start``/``stop``, ``config``
swapped on reload); the SMTP side calls ``admit(stored_batch)`` after a successful
spool store; queue/admin.py drives the console operations through the primitives at
the bottom. It never reads message bodies except to hand one to the DSN builder,
never speaks SMTP (the DeliveryEngine does), and never sleeps on the wall clock (the
injected Clock decides, so tests control time).

Per (binding, domain) a DomainQueue (active + delayed). One scheduler greenlet
(``_pump``) repeatedly: fails messages whose expiry passed (whatever queue they sit
in: active, delayed, or a suspended queue), moves due delayed messages to their active
queue, and starts delivery greenlets for every ready queue within
``max_outbound_connections`` (per binding+domain), ``server_max_outbound_connections``
(per binding, and server-wide) and the ``outbound_throttle_messages`` /
``outbound_throttle_connections`` windows (one per defining scope). A queue at its
limits is skipped, never waited on, so one slow domain cannot block another.

A hand-off is one connection's worth: up to ``max_deliveries_per_connection``
messages, or ``max_recipients_per_batch`` when that is 0 (unlimited). Results:
delivered -> ``spool.remove``; transient -> retry.py decides: ``spool.update``
(retries, next attempt, last error) and the delayed queue, or failure; permanent or
failed -> a DSN when one is due (``build_dsn``, stored and admitted like any message),
then ``spool.remove``. A transient failure that crossed a delay-notice threshold
also queues a delay DSN (delay_notices.py, ``generate_delay_dsn``). After each
hand-off deferral.py decides whether the domain is unreachable
(``mx_failures_to_delay`` / ``connect_timeout_to_delay``): then its active queue is
swept to the delayed queue and nothing is dispatched to it until the deferral ends.

Memory: the queues hold message IDs; the SpooledMessage metadata they refer to is the
spool's own in-memory index, and bodies are never held here (the spool reads them for
delivery), so ``max_resident_*`` have nothing to swap out yet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import gevent
import gevent.event
import gevent.pool

from ecelerity._speedups.timerq import TimerQueue

from . import deferral
from .clock import Clock, SystemClock
from .delay_notices import delay_dsn_due
from .domain_queue import DEFAULT_BINDING, DomainQueue
from .retry import MAX_TIME_REASON, NOT_ATTEMPTED_REASON, RetryDecision, RetryPolicy, after_transient
from .throttle import ThrottleBook

ACTIVE, DELAYED, IN_FLIGHT, FINISHING = "active", "delayed", "in_flight", "finishing"
NO_RESULT = (451, "4.3.0", "[internal] delivery returned no result for this message")
Reason = tuple[int, str, str]
Observer = Callable[[str, Any, str], None]   # (outcome, message, "code enhanced text")


@dataclass(eq=False)
class QueuedMessage:
    """The manager's record of one message: where it is and when it expires."""

    message: Any                 # core.spool_records.SpooledMessage
    key: tuple[str, str]
    expires_at: float
    state: str = ACTIVE
    last_chance: bool = False    # already expired when loaded: one attempt, then fail


def reason_text(reason: Reason) -> str:
    return f"{reason[0]} {reason[1]} {reason[2]}"


def _default_dsn_builder() -> Callable[..., Any] | None:
    try:
        from ecelerity.bounce.dsn import build_dsn
    except ImportError:
        return None
    return build_dsn


class QueueManager:
    """See the module docstring."""

    def __init__(self, config: Any, spool: Any, engine: Any, *, clock: Clock | None = None,
                 dsn_builder: Callable[..., Any] | None | str = "default",
                 log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.spool = spool
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.dsn_builder = _default_dsn_builder() if dsn_builder == "default" else dsn_builder
        self.log = log or (lambda text: None)
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
        self._throttles = ThrottleBook()
        self._wake = gevent.event.Event()
        self._workers = gevent.pool.Group()
        self._pump_greenlet: gevent.Greenlet | None = None

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
            binding = message.binding or message.envelope.binding or DEFAULT_BINDING
            queue = self.queue_for(binding, message.domain)
            policy = RetryPolicy.from_config(self.config, binding=self.config_binding(binding),
                                             domain=message.domain)
            entry = QueuedMessage(message, queue.key, policy.expires_at(message.created))
            self._entries[message.id] = entry
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
        self.wake()

    def queue_for(self, binding: str, domain: str) -> DomainQueue:
        key = (binding, domain.lower())
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = DomainQueue(binding, key[1])
        return queue

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
        while queue.active:
            if (queue.in_flight >= limit or self._in_flight_by_binding[queue.binding] >= binding_limit
                    or self._in_flight_total >= server_limit):
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
            queue.in_flight += 1
            self._in_flight_total += 1
            self._in_flight_by_binding[queue.binding] += 1
            self._workers.spawn(self._deliver, queue, batch)
        return True

    def is_suspended(self, queue: DomainQueue) -> bool:
        return (queue.suspended or queue.binding in self.suspended_bindings
                or queue.domain in self.suspended_domains
                or bool(self.config.get("suspend_delivery", binding=self.config_binding(queue.binding),
                                        domain=queue.domain)))

    def config_binding(self, binding: str) -> str:
        """The binding whose options apply: ``default`` for one the configuration lacks
        (a message spooled under a binding that a reload or restart removed)."""
        return binding if self.config.has_binding(binding) else DEFAULT_BINDING

    # -- results ------------------------------------------------------------------------
    def _deliver(self, queue: DomainQueue, batch: list[QueuedMessage]) -> None:
        results: dict[str, Any] = {}
        messages = {entry.message.id: entry.message for entry in batch}

        def remove_delivered(transaction_results: list[Any]) -> None:
            """Durable removal right after the remote's 250, one record per transaction
            (shrinks the crash-duplicate window); _apply then finds them removed."""
            done = [messages[r.message_id] for r in transaction_results
                    if r.outcome == "delivered" and r.message_id in messages]
            if done:
                try:
                    self.spool.remove_many(done)
                except Exception as exc:  # noqa: BLE001 - _apply retries the removal
                    self.log(f"queue: removing {len(done)} delivered messages failed: {exc}")

        try:
            for result in self.engine.deliver(queue.binding, queue.domain, list(messages.values()),
                                               on_results=remove_delivered) or []:
                results[result.message_id] = result
        except Exception as exc:  # noqa: BLE001 - a failed hand-off is a transient failure
            self.log(f"queue: delivery to {queue.domain} via {queue.binding} failed: "
                     f"{type(exc).__name__}: {exc}")
        finally:
            queue.in_flight -= 1
            self._in_flight_total -= 1
            self._in_flight_by_binding[queue.binding] -= 1
            self.wake()
        self._note_reachability(queue, [results.get(entry.message.id) for entry in batch])
        for entry in batch:
            try:
                self._apply(queue, entry, results.get(entry.message.id))
            except Exception as exc:  # noqa: BLE001 - one message must not strand the others
                self.log(f"queue: applying the result for {entry.message.id} failed: "
                         f"{type(exc).__name__}: {exc}")
                if entry.state == IN_FLIGHT and entry.message.id in self._entries:
                    # e.g. the spool refused the retry-state update: retry later anyway
                    policy = RetryPolicy.from_config(
                        self.config, binding=self.config_binding(queue.binding), domain=queue.domain)
                    self.to_delayed(entry, self.queue_for(*entry.key),
                                    self.clock.now() + policy.retry_interval)
        self.wake()

    def _note_reachability(self, queue: DomainQueue, results: list[Any]) -> None:
        """Domain-level deferral (deferral.py): sweep a domain no host of which answers."""
        cfg, binding, domain = self.config, self.config_binding(queue.binding), queue.domain
        if deferral.note_handoff(
                queue, results, now=self.clock.now(),
                mx_failures_to_delay=cfg.get("mx_failures_to_delay", binding=binding, domain=domain),
                connect_timeout_to_delay=cfg.get("connect_timeout_to_delay", binding=binding,
                                                 domain=domain),
                retry_interval=cfg.get("retry_interval", binding=binding, domain=domain)):
            swept = self.sweep_to_delayed(queue, queue.deferred_until)
            self.log(f"queue: {domain} via {queue.binding} unreachable "
                     f"({queue.unreachable_streak} hand-offs in a row): delivery deferred "
                     f"{queue.deferred_until - self.clock.now():.0f}s, {swept} messages swept "
                     "to the delayed queue")

    def _apply(self, queue: DomainQueue, entry: QueuedMessage, result: Any) -> None:
        message = entry.message
        if result is None:
            outcome, reason = "transient", NO_RESULT
        else:
            outcome, reason = result.outcome, (result.code, result.enhanced, result.text)
        if outcome == "delivered":
            queue.delivered += 1
            self._forget(entry)
            self.spool.remove(message)
            self._notify("delivered", message, reason)
            return
        queue.last_error = reason_text(reason)
        if outcome != "transient":
            queue.permanent_failures += 1
            self._forget(entry)
            self.fail(entry, result, reason)
            return
        queue.transient_failures += 1
        failures = message.retries + 1
        now = self.clock.now()
        policy = RetryPolicy.from_config(self.config, binding=self.config_binding(queue.binding),
                                         domain=queue.domain)
        decision = after_transient(policy, failures=failures, created=message.created, now=now)
        if decision.retry and (entry.last_chance or now >= entry.expires_at):
            decision = RetryDecision(False, reason=MAX_TIME_REASON)
        if not decision.retry:
            self._forget(entry)
            self.fail(entry, result, decision.reason or MAX_TIME_REASON)
            return
        notice_due = self._delay_notice_due(queue, message, policy, now)
        self.spool.update(message, retries=failures, next_attempt=decision.next_attempt,
                          last_error=reason_text(reason))
        self._notify("transient", message, reason_text(reason))
        if notice_due:
            self.send_dsn(message, result, reason, action="delayed")
        if entry.state == IN_FLIGHT and message.id in self._entries:
            self.to_delayed(entry, self.queue_for(*entry.key), decision.next_attempt)

    def fail(self, entry: QueuedMessage, result: Any, reason: Reason, *,
              bounce: bool = True) -> None:
        """End a message: a DSN when one is due, then remove it from the spool."""
        message = entry.message
        entry.state = FINISHING
        self._forget(entry)
        binding, domain = self.config_binding(entry.key[0]), entry.key[1]
        if bounce and self.config.get("generate_bounces", binding=binding, domain=domain):
            self.send_dsn(message, result, reason, action="failed")
        self.spool.remove(message)
        self._notify("failed", message, reason_text(reason))

    def _delay_notice_due(self, queue: DomainQueue, message: Any, policy: RetryPolicy,
                          now: float) -> bool:
        cfg, binding, domain = self.config, self.config_binding(queue.binding), queue.domain
        if self.dsn_builder is None or not message.envelope.mail_from or not cfg.get(
                "generate_delay_dsn", binding=binding, domain=domain):
            return False
        return delay_dsn_due(
            created=message.created, retries=message.retries, next_attempt=message.next_attempt,
            now=now, policy=policy,
            first=cfg.get("delay_dsn_retry_interval", binding=binding, domain=domain),
            cap=cfg.get("delay_dsn_max_retry_interval", binding=binding, domain=domain))

    def send_dsn(self, message: Any, result: Any, reason: Reason, *, action: str) -> None:
        """Build the DSN (``failed`` or ``delayed``) for ``message`` and queue it; a DSN
        problem is logged, never raised (it must not keep or lose the message)."""
        if self.dsn_builder is None:
            return
        try:
            dsn = self.dsn_builder(message, result, reason=reason_text(reason), cfg=self.config,
                                   body=self.spool.read_body(message), action=action)
            if dsn is not None:
                self.admit(self.spool.store(*dsn))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            self.log(f"queue: no {action} DSN for {message.id}: {type(exc).__name__}: {exc}")

    def _expire(self, message_id: str) -> None:
        entry = self._entries.get(message_id)
        if entry is None or entry.state in (IN_FLIGHT, FINISHING):
            return  # in flight: the result decides (a transient result fails it then)
        self.detach(entry)
        self._workers.spawn(self.fail, entry, None, MAX_TIME_REASON)

    def _notify(self, outcome: str, message: Any, detail: Any) -> None:
        text = reason_text(detail) if isinstance(detail, tuple) else str(detail)
        for observer in list(self.observers):
            observer(outcome, message, text)

    # -- primitives (admin.py and the above) ----------------------------------------------
    def entry(self, message_id: str) -> QueuedMessage | None:
        return self._entries.get(message_id)

    def queues(self) -> list[DomainQueue]:
        return list(self._queues.values())

    def to_active(self, entry: QueuedMessage, queue: DomainQueue, *, front: bool = False) -> None:
        entry.state = ACTIVE
        entry.key = queue.key
        queue.active.append(entry.message.id, front=front)
        self._ready[queue.key] = None

    def to_delayed(self, entry: QueuedMessage, queue: DomainQueue, due_at: float) -> None:
        entry.state = DELAYED
        entry.key = queue.key
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
        self._expiry.remove(entry.message.id)


def _peek_due(timers: TimerQueue) -> float | None:
    top = timers.peek()
    return None if top is None else top[0]
