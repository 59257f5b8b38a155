"""Active queue: message IDs ready for delivery now, first in first out, for one
(binding, domain).

Who calls it: queue/domain_queue.py / manager.py only. Holds IDs, never message
bodies (the spool has those). O(1) append, take and remove: removal is lazy (a
generation number marks the live copy of an ID), and stale deque entries are dropped
as they reach the front or when they outnumber live ones. Never blocks.
"""
from __future__ import annotations

from collections import deque


class ActiveQueue:
    """FIFO of message IDs with O(1) removal; see the module docstring."""

    __slots__ = ("_order", "_live", "_generation")

    def __init__(self) -> None:
        self._order: deque[tuple[str, int]] = deque()
        self._live: dict[str, int] = {}
        self._generation = 0

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, message_id: str) -> bool:
        return message_id in self._live

    def append(self, message_id: str, *, front: bool = False) -> None:
        """Queue ``message_id`` at the back (``front=True``: next to go); moves it if queued."""
        self._generation += 1
        self._live[message_id] = self._generation
        item = (message_id, self._generation)
        if front:
            self._order.appendleft(item)
        else:
            self._order.append(item)
        if len(self._order) > 64 and len(self._order) > 2 * len(self._live):
            self._order = deque(entry for entry in self._order
                                if self._live.get(entry[0]) == entry[1])

    def remove(self, message_id: str) -> bool:
        return self._live.pop(message_id, None) is not None

    def take(self, limit: int) -> list[str]:
        """Remove and return up to ``limit`` IDs, oldest first."""
        taken: list[str] = []
        order, live = self._order, self._live
        while order and len(taken) < limit:
            message_id, generation = order.popleft()
            if live.get(message_id) == generation:
                del live[message_id]
                taken.append(message_id)
        return taken

    def ids(self) -> list[str]:
        """The queued IDs in delivery order."""
        return [message_id for message_id, generation in self._order
                if self._live.get(message_id) == generation]
