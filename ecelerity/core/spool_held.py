"""The journal writer's own work: exclusive jobs and new segments, and the write records.

Who calls it: spool_commit.py only (JournalWriter mixes ``HeldWork`` in; ``PendingWrite``
and ``Exclusive`` are what its queues hold). A write goes straight to the journal I/O
thread when it fits the active segment; what cannot -- a batch record that needs a new
segment, an exclusive job (load/unlink in the threadpool), and everything appended
after either, to keep the order -- waits in ``_held`` and runs here, in the committer
greenlet, only once nothing is queued at the thread (sealing a segment closes the fd
the thread writes to; an exclusive job must see no write in flight). What it must never
do: run with a write queued at the thread, or reorder the held writes.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from gevent.event import AsyncResult

from .spool_cycle import DurableReply
from .spool_format import SpoolError, error_from_oserror


@dataclass
class PendingWrite:
    kind: bytes
    parts: list[bytes]  # encode_record's buffers
    result: AsyncResult = field(default_factory=AsyncResult)
    trace: dict[str, float] | None = None  # spool_latency stamps (ECELERITY_EOD_TRACE)
    on_durable: Callable[[Any], None] | None = None  # run by the committer once durable
    reply: DurableReply | None = None  # sent by the I/O thread once durable
    offset: int = 0  # where it was laid out in the active segment
    outcome: tuple[int, int] | None = None  # (segment number, data offset) once laid out

    def __post_init__(self) -> None:
        self.size = sum(len(part) for part in self.parts)


@dataclass
class Exclusive:
    function: Callable[..., Any]
    args: tuple
    result: AsyncResult = field(default_factory=AsyncResult)


class HeldWork:
    """JournalWriter's committer-side work (a mixin: the state, ``_fits``, ``_to_thread``
    and ``_fail`` live in JournalWriter)."""

    _held: deque[PendingWrite | Exclusive]
    _queued: deque[PendingWrite]
    _io: Any
    _segment: Any
    _layout_end: int
    headroom: int
    max_cycle_bytes: int

    def _run_held(self) -> None:
        """With nothing at the thread: exclusive jobs, new segments, and the writes behind."""
        while self._held and not self._queued:
            head = self._held[0]
            if isinstance(head, Exclusive):
                self._held.popleft()
                try:
                    head.result.set(self._io.blocking(head.function, *head.args))
                except BaseException as exc:  # noqa: B036 - handed to the waiter
                    head.result.set_exception(exc)
                continue
            if not self._fits(head):
                self._open_segment()
                continue
            while self._held and isinstance(self._held[0], PendingWrite) \
                    and self._fits(self._held[0]):
                self._to_thread(self._held.popleft())

    def _open_segment(self) -> None:
        """Open the next segment for the held writes; on failure fail those that need it."""
        segment = self._segment
        run, run_bytes = [], 0
        for item in self._held:
            if not isinstance(item, PendingWrite) or (run and run_bytes + item.size
                                                       > self.max_cycle_bytes):
                break
            run.append(item)
            run_bytes += item.size
        batch_bytes = sum(write.size for write in run if write.kind == b"B")
        try:
            self._io.blocking(segment.open_next, batch_bytes + self.headroom, not batch_bytes)
            self._layout_end = segment.offset
            return
        except OSError as exc:
            error: BaseException = error_from_oserror(
                exc, f"opening segment {segment.name(segment.next_number)}")
        except BaseException as exc:  # noqa: B036 - every waiter must wake up
            error = exc
        for write in run:  # keep done/update records going into the old segment
            if not self._fits(write) or not isinstance(error, SpoolError):
                self._held.remove(write)
                self._fail(write, error)
