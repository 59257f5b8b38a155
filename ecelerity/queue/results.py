"""Applying delivery results: what happens to each message after a hand-off.

Who calls it: QueueManager (queue/manager.py) inherits ResultsMixin; its delivery
greenlets run ``_deliver``, admin.py calls ``fail`` and ``send_dsn``. Delivered ->
``spool.remove`` (per transaction, as soon as the remote said 250); transient ->
retry.py decides: ``spool.update`` (retries, next attempt, last error) and the delayed
queue, or failure; permanent or failed -> a DSN when one is due (``build_dsn``, stored
and admitted like any message), then ``spool.remove``. A transient failure that
crossed a delay-notice threshold also queues a delay DSN (delay_notices.py). After
each hand-off deferral.py decides whether the domain is unreachable. Never speaks
SMTP, never raises out of a delivery greenlet (a failure is logged and the message
retried later).
"""
from __future__ import annotations

from typing import Any

from . import deferral
from .bindings import DEFAULT_BINDING, default_binding_mode
from .delay_notices import delay_dsn_due
from .domain_queue import DomainQueue
from .entry import FINISHING, IN_FLIGHT, NO_RESULT, QueuedMessage, Reason, reason_text
from .retry import MAX_TIME_REASON, RetryDecision, RetryPolicy, after_transient


class ResultsMixin:
    """The result half of QueueManager; the attributes it uses are set by the manager."""

    config: Any
    spool: Any
    engine: Any
    clock: Any
    dsn_builder: Any
    log: Any
    observers: list
    _entries: dict
    _workers: Any
    _in_flight_total: int
    _in_flight_by_binding: Any

    def _deliver(self, queue: DomainQueue, batch: list[QueuedMessage],
                 retire: list[Any] | None = None) -> None:
        """One hand-off; ``retire``: idle connections to QUIT first (connection_budget.py)."""
        results: dict[str, Any] = {}
        entries = {entry.message.id: entry for entry in batch}
        messages = {message_id: entry.message for message_id, entry in entries.items()}
        applied: set[str] = set()

        def finish_delivered(transaction_results: list[Any]) -> None:
            """Right after the remote's 250, per transaction: one durable removal record
            for all its delivered messages (shrinks the crash-duplicate window), then
            their results (counters, mainlog D) -- stamped when they happened."""
            done = [r for r in transaction_results
                    if r.outcome == "delivered" and r.message_id in entries]
            if not done:
                return
            try:
                self.spool.remove_many([messages[r.message_id] for r in done])
            except Exception as exc:  # noqa: BLE001 - _apply below retries the removal
                self.log(f"queue: removing {len(done)} delivered messages failed: {exc}")
                return
            for result in done:
                applied.add(result.message_id)
                self._apply(queue, entries[result.message_id], result)

        try:
            if retire:
                self.engine.retire(retire)
            for result in self.engine.deliver(queue.binding, queue.domain, list(messages.values()),
                                               on_results=finish_delivered) or []:
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
            if entry.message.id in applied:
                continue
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
            self.send_dsn(message, result, reason, action="delayed", binding=entry.key[0])
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
            self.send_dsn(message, result, reason, action="failed", binding=binding)
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

    def send_dsn(self, message: Any, result: Any, reason: Reason, *, action: str,
                 binding: str | None = None) -> None:
        """Build the DSN (``failed`` or ``delayed``) for ``message`` and queue it; a DSN
        problem is logged, never raised (it must not keep or lose the message). Unless
        ``default_binding`` is ``normal``, the DSN leaves from the binding the message
        was queued on (``binding``): the default binding is held or refused then."""
        if self.dsn_builder is None:
            return
        try:
            dsn = self.dsn_builder(message, result, reason=reason_text(reason), cfg=self.config,
                                   body=self.spool.read_body(message), action=action)
            if dsn is None:
                return
            envelope = dsn[0]
            if (binding and binding != DEFAULT_BINDING and envelope.binding is None
                    and default_binding_mode(self.config) != "normal"):
                envelope.binding = binding
            self.admit(self.spool.store(*dsn))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            self.log(f"queue: no {action} DSN for {message.id}: {type(exc).__name__}: {exc}")

    def _notify(self, outcome: str, message: Any, detail: Any) -> None:
        text = reason_text(detail) if isinstance(detail, tuple) else str(detail)
        for observer in list(self.observers):
            try:  # a broken observer (a logger, a Lua callout queue) must not undo a result
                observer(outcome, message, text)
            except Exception as exc:  # noqa: BLE001
                self.log(f"queue: observer {observer!r} failed on {outcome} of {message.id}: "
                         f"{type(exc).__name__}: {exc}")
