"""Due-time priority queue: the timer structure under every delayed queue and expiry timer.

Who calls it: ecelerity/queue/ (delayed.py keeps one per (binding, domain); manager.py
keeps the expiry timers). ``push(due, key)`` schedules ``key`` (re-pushing a key
reschedules it), ``pop_due(now)`` returns every key due at or before ``now`` in due
order (ties in push order), ``remove(key)`` cancels, ``peek()`` shows the earliest.
O(log n) push/pop, O(1) remove (lazy: a cancelled entry is skipped when it surfaces,
and the heap is rebuilt once cancelled entries outnumber live ones, so memory stays
bounded by twice the live count). Keys must be hashable. Never blocks, never reads
the clock: the caller passes ``now``.

This module is the reference; ``_c_timerq.pyx`` is its compiled twin (same behaviour,
checked by tests/unit/speedups/test_timerq_twins.py). Nothing here imports the rest
of ecelerity.
"""
from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import Any, Hashable

from . import compiled_twin


class TimerQueue:
    """Keys ordered by due time; see the module docstring."""

    __slots__ = ("_heap", "_entries", "_seq", "_dead")

    def __init__(self) -> None:
        self._heap: list[list[Any]] = []          # [due, seq, key, alive]
        self._entries: dict[Hashable, list[Any]] = {}
        self._seq = 0
        self._dead = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def push(self, due: float, key: Hashable) -> None:
        """Schedule ``key`` at ``due`` (replacing any earlier schedule of it)."""
        due = float(due)
        if key in self._entries:
            self._cancel(key)
        entry = [due, self._seq, key, True]
        self._seq += 1
        self._entries[key] = entry
        heappush(self._heap, entry)

    def remove(self, key: Hashable) -> bool:
        """Cancel ``key``; False when it was not scheduled."""
        if key not in self._entries:
            return False
        self._cancel(key)
        return True

    def due_of(self, key: Hashable) -> float | None:
        """When ``key`` is due, or None when it is not scheduled."""
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def peek(self) -> tuple[float, Hashable] | None:
        """(due, key) of the earliest live entry, or None when empty."""
        heap = self._heap
        while heap and not heap[0][3]:
            heappop(heap)
            self._dead -= 1
        if not heap:
            return None
        return heap[0][0], heap[0][2]

    def pop_due(self, now: float, limit: int = -1) -> list[Hashable]:
        """Remove and return keys due at or before ``now``, earliest first (at most ``limit``
        when ``limit`` >= 0)."""
        heap = self._heap
        due_keys: list[Hashable] = []
        while heap and limit != 0:
            entry = heap[0]
            if not entry[3]:
                heappop(heap)
                self._dead -= 1
                continue
            if entry[0] > now:
                break
            heappop(heap)
            del self._entries[entry[2]]
            due_keys.append(entry[2])
            limit -= 1
        return due_keys

    def keys(self) -> list[Hashable]:
        """Every scheduled key, in no particular order."""
        return list(self._entries)

    def clear(self) -> None:
        self._heap.clear()
        self._entries.clear()
        self._dead = 0

    def _cancel(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        entry[3] = False
        self._dead += 1
        if self._dead > 64 and self._dead > len(self._entries):
            self._heap = [item for item in self._heap if item[3]]
            heapify(self._heap)
            self._dead = 0


_py_TimerQueue = TimerQueue
IMPLEMENTATION = "python"

_twin = compiled_twin("timerq")
if _twin is not None:
    TimerQueue = _twin.TimerQueue  # noqa: F811  (compiled twin)
    IMPLEMENTATION = "cython"
