"""Bodies of just-stored messages, kept in memory until their delivery has read them.

Who calls it: spool.py only (``add`` after a batch record is durable, ``get`` from
``read_body``, ``release`` when a message of the batch ends). Most mail is delivered
seconds after it was stored, so delivery gets the bytes without a threadpool read of a
segment file. Bounded (total bytes and per body), oldest dropped first; a miss just
means the spool reads the segment as before. It must never hold a body that is not
durable in the journal, nor return bytes other than exactly those stored.
"""
from __future__ import annotations

MAX_BODY_BYTES = 256 << 10
MAX_TOTAL_BYTES = 32 << 20


class RecentBodies:
    """(segment, data offset) -> [body, live messages still to be delivered from it]."""

    def __init__(self, max_total: int = MAX_TOTAL_BYTES, max_body: int = MAX_BODY_BYTES) -> None:
        self.max_total = max_total
        self.max_body = max_body
        self.total = 0
        self._bodies: dict[tuple[int, int], list] = {}   # insertion order = age

    def __len__(self) -> int:
        return len(self._bodies)

    def add(self, key: tuple[int, int], body: bytes, users: int) -> None:
        if len(body) > self.max_body or users <= 0:
            return
        while self._bodies and self.total + len(body) > self.max_total:
            oldest = next(iter(self._bodies))
            self.total -= len(self._bodies.pop(oldest)[0])
        self._bodies[key] = [body, users]
        self.total += len(body)

    def get(self, key: tuple[int, int]) -> bytes | None:
        entry = self._bodies.get(key)
        return entry[0] if entry is not None else None

    def release(self, key: tuple[int, int]) -> None:
        """One message of the body ended; the body goes when none is left."""
        entry = self._bodies.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del self._bodies[key]
            self.total -= len(entry[0])
