"""Queue administration: the plain Python API behind the console's queue commands.

Who calls it: control/ command handlers (fail/flush/retry/reroute/rebind/suspend/resume,
``domain``, ``summary``-style statistics) and tests. Each operation acts on the
QueueManager's queues through its primitives and finishes before returning (spool
writes included), so the console can report what was done. Messages being delivered
right now (in flight) are left alone: their delivery result decides. Never reads
configuration except through the manager, never touches bodies.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import deferral
from .manager import ACTIVE, DELAYED, QueueManager, QueuedMessage

ADMIN_FAIL_REASON = (554, "5.4.7", "[internal] failed by administrator")


@dataclass(frozen=True)
class QueueStats:
    """What the console shows for one (binding, domain) queue."""

    binding: str
    domain: str
    active: int
    delayed: int
    in_flight: int
    oldest_age: float | None     # seconds since the oldest queued message was received
    last_error: str | None
    suspended: bool
    delivered: int
    transient_failures: int
    permanent_failures: int


class QueueAdmin:
    """Operations on one manager's queues; see the module docstring."""

    def __init__(self, manager: QueueManager) -> None:
        self.manager = manager

    # -- selection ------------------------------------------------------------------------
    def _queued(self, *, domain: str | None = None,
                binding: str | None = None) -> list[QueuedMessage]:
        found = []
        for queue in self.manager.queues():
            if domain is not None and queue.domain != domain.lower():
                continue
            if binding is not None and queue.binding != binding:
                continue
            for message_id in queue.active.ids() + queue.delayed.ids():
                entry = self.manager.entry(message_id)
                if entry is not None and entry.state in (ACTIVE, DELAYED):
                    found.append(entry)
        return found

    # -- operations -----------------------------------------------------------------------
    def fail_domain(self, domain: str, *, binding: str | None = None, quiet: bool = False) -> int:
        """Fail every queued message for ``domain``; ``quiet``: without DSNs. Returns the count."""
        entries = self._queued(domain=domain, binding=binding)
        for entry in entries:
            self._fail(entry, quiet=quiet)
        return len(entries)

    def fail_message(self, message_id: str, *, quiet: bool = False) -> bool:
        entry = self.manager.entry(message_id)
        if entry is None or entry.state not in (ACTIVE, DELAYED):
            return False
        self._fail(entry, quiet=quiet)
        return True

    def flush_domain(self, domain: str, *, binding: str | None = None) -> int:
        """Make every delayed message of ``domain`` due now (lifting a domain-level
        deferral); returns how many moved."""
        for queue in self.manager.queues():
            if queue.domain == domain.lower() and binding in (None, queue.binding):
                deferral.clear(queue)
        entries = [e for e in self._queued(domain=domain, binding=binding) if e.state == DELAYED]
        for entry in entries:
            self._retry_now(entry)
        self.manager.wake()
        return len(entries)

    def retry_message(self, message_id: str) -> bool:
        """Move one delayed message to its active queue now."""
        entry = self.manager.entry(message_id)
        if entry is None or entry.state != DELAYED:
            return False
        self._retry_now(entry)
        self.manager.wake()
        return True

    def reroute_queue(self, domain: str, to_binding: str, *,
                      from_binding: str | None = None) -> int:
        """Move queued messages of ``domain`` to ``to_binding`` (durably), keeping their state."""
        return self.rebind(domain=domain, binding=from_binding, to=to_binding)

    def rebind(self, *, domain: str | None = None, binding: str | None = None,
               to: str | None = None) -> int:
        """Move the queued (not in-flight) messages of a domain and/or binding to ``to``,
        or, without ``to``, re-run binding assignment (bindings.py) on them with the
        current configuration and suspensions: the binding the policy named, else a
        member of its binding_group (a message already on a usable member stays), else
        ``default``. The new binding is written to the
        spool (``spool.update(binding=...)``), so a restart keeps it; active messages
        stay active, delayed ones keep their due time. Returns how many moved; KeyError
        for an unknown ``to``. The policy scripts themselves are not re-run: their
        recorded decision (envelope binding / binding_group) is re-resolved."""
        manager = self.manager
        if to is not None and not manager.config.has_binding(to):
            raise KeyError(f"unknown binding '{to}'")
        moved = 0
        for entry in self._queued(domain=domain, binding=binding):
            target_binding = to if to is not None else manager.assign_binding(
                entry.message, current=entry.key[0])
            if target_binding == entry.key[0]:
                continue
            self._move(entry, target_binding)
            moved += 1
        manager.wake()
        return moved

    def suspend(self, *, binding: str | None = None, domain: str | None = None) -> None:
        """Hold delivery for a binding, a domain (all bindings) or one binding's domain."""
        manager = self.manager
        if binding is not None and domain is not None:
            manager.queue_for(binding, domain).suspended = True
        elif binding is not None:
            manager.suspended_bindings.add(binding)
        elif domain is not None:
            manager.suspended_domains.add(domain.lower())
        else:
            raise ValueError("suspend: name a binding, a domain or both")

    def resume(self, *, binding: str | None = None, domain: str | None = None) -> None:
        manager = self.manager
        if binding is not None and domain is not None:
            manager.queue_for(binding, domain).suspended = False
        elif binding is not None:
            manager.suspended_bindings.discard(binding)
        elif domain is not None:
            manager.suspended_domains.discard(domain.lower())
        else:
            raise ValueError("resume: name a binding, a domain or both")
        manager.wake()

    def stats(self, *, domain: str | None = None, binding: str | None = None) -> list[QueueStats]:
        """Per-queue statistics, sorted by (binding, domain)."""
        manager = self.manager
        now = manager.clock.now()
        rows = []
        for queue in manager.queues():
            if domain is not None and queue.domain != domain.lower():
                continue
            if binding is not None and queue.binding != binding:
                continue
            created = [entry.message.created
                       for entry in self._queued(domain=queue.domain, binding=queue.binding)]
            rows.append(QueueStats(
                binding=queue.binding, domain=queue.domain, active=len(queue.active),
                delayed=len(queue.delayed), in_flight=queue.in_flight,
                oldest_age=(now - min(created)) if created else None,
                last_error=queue.last_error, suspended=manager.is_suspended(queue),
                delivered=queue.delivered, transient_failures=queue.transient_failures,
                permanent_failures=queue.permanent_failures))
        return sorted(rows, key=lambda row: (row.binding, row.domain))

    # -- read-only views (console: showqueue, message details, summary) ---------------------
    def messages(self, *, domain: str | None = None,
                 binding: str | None = None) -> list[QueuedMessage]:
        """Every message the manager holds for the selection, in flight included, oldest first."""
        domain = domain.lower() if domain is not None else None
        found = [entry for entry in list(self.manager._entries.values())
                 if (domain is None or entry.key[1] == domain)
                 and (binding is None or entry.key[0] == binding)]
        return sorted(found, key=lambda entry: (entry.message.created, entry.message.id))

    def due_at(self, entry: QueuedMessage) -> float | None:
        """When a delayed message is next attempted (None unless it is delayed)."""
        if entry.state != DELAYED:
            return None
        queue = self.manager.queue_for(*entry.key)
        return queue.delayed.due_of(entry.message.id)

    def total_messages(self) -> int:
        """Messages held: active, delayed, suspended and in flight."""
        return len(self.manager._entries)

    # -- internals ------------------------------------------------------------------------
    def _fail(self, entry: QueuedMessage, *, quiet: bool) -> None:
        self.manager.detach(entry)
        self.manager.fail(entry, None, ADMIN_FAIL_REASON, bounce=not quiet)

    def _move(self, entry: QueuedMessage, to_binding: str) -> None:
        manager = self.manager
        state = entry.state
        due_at = manager.queue_for(*entry.key).delayed.due_of(entry.message.id)
        manager.detach(entry)
        try:
            manager.spool.update(entry.message, binding=to_binding)
        finally:   # refused by the spool: the message stays where it was
            target = manager.queue_for(to_binding if entry.message.binding == to_binding
                                       else entry.key[0], entry.key[1])
            if state == DELAYED and due_at is not None:
                manager.to_delayed(entry, target, due_at)
            else:
                manager.to_active(entry, target)

    def _retry_now(self, entry: QueuedMessage) -> None:
        manager = self.manager
        queue = manager.queue_for(*entry.key)
        if queue.delayed.remove(entry.message.id):
            manager.index_delayed(queue)
        manager.to_active(entry, queue)
