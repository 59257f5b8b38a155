"""Residency: how many queued messages are held, against ``max_resident_messages``.

Who calls it: queue/manager.py's QueueManager inherits ResidencyMixin; admission and
the scheduler call ``_hold`` / ``_check_resident``, the SMTP side asks
``over_resident_limit()`` (it can tempfail new mail with ``451 4.3.1`` while true).
It never refuses, drops or moves a message itself, and never reads bodies: it counts
and logs.

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
``over_resident_limit()`` turns true. ``max_resident_active_queue`` (how many
active-queue messages keep their body in memory, in Momentum) has no work to do here:
an active queue is a deque of IDs, and no body is resident outside a running
transaction.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from .entry import QueuedMessage

BYTES_PER_QUEUED_MESSAGE = 1660   # measured, see the module docstring


class ResidencyMixin:
    """The residency half of QueueManager; the attributes it uses are set by the manager."""

    config: Any
    log: Callable[[str], None]
    config_binding: Callable[[str], str]
    _entries: dict[str, QueuedMessage]
    _held_by_binding: Counter[str]
    _over_resident: set[str]

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
