"""Group commit: the one writer of the spool journal, many records per fsync, hub never blocked.

Who calls it: spool.py only (``append`` for batch/done/update records, ``run_exclusive``
for load/unlink jobs). Nothing else writes segment files.

How a write becomes durable:
1. ``append()`` (in a session or delivery greenlet) encodes the record (header, meta,
   checksum: GIL work, done where it is asked for), takes a slot of the bounded pending
   queue (back-pressure: it waits when ``max_pending`` writes are queued), enqueues the
   write and waits on its own AsyncResult.
2. One committer greenlet takes *everything* queued (up to ``max_cycle_bytes``) and hands
   one ``pwritev`` at the end of the active segment plus one ``fdatasync`` to the journal
   I/O thread (spool_cycle.CycleIO: a thread that never needs the GIL; the committer
   waits on its eventfd, so only the committer is parked). Then it runs each write's
   ``on_durable`` callback (the SMTP session's 250 goes out from there: no hub hop, no
   waiting behind the other woken sessions) and wakes every waiter of that cycle; the
   writes that piled up meanwhile are handed to the I/O thread *before* those replies
   go out (unless they need a new segment), so their fdatasync overlaps the replies.
   While a cycle is in flight, new writes pile up and form the next cycle, so the
   number of fsyncs follows the disk's speed, not the message rate: a slow disk costs
   latency, not throughput.
3. Segments are preallocated (``posix_fallocate``) to ``segment_bytes``. A batch record
   must leave ``headroom`` bytes free in the segment, or the cycle first opens a new
   segment (file fsync + directory fsync, in gevent's threadpool); done/update records
   may use the headroom. So when the disk is full new mail is refused (SpoolFullError
   -> 452 4.3.1) but delivery can still record what it delivered, and emptied segments
   get deleted.
4. A failed cycle (any OSError) fails all its writes with SpoolError/SpoolFullError; the
   stretch it wrote is zeroed (NUL tail = unused space to the scanner) and the next cycle
   writes over it. If even that fails, or if fdatasync failed (the page cache can no
   longer be trusted), the segment is sealed and the next cycle opens a new one.
"""
from __future__ import annotations

import logging
import os  # noqa: F401 - tests, benchmarks/spool_store.py patch spool_commit.os.*
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from . import spool_latency
from .spool_cycle import (ActiveSegment, Cycle, CycleIO, fsync_dir, job_error,
                          shorten_switch_interval)
from .spool_format import SpoolError, encode_record, error_from_oserror

__all__ = ["CommitStats", "JournalWriter", "SEGMENT_SUFFIX", "fsync_dir", "segment_name"]
SEGMENT_SUFFIX = ".seg"
log = logging.getLogger(__name__)


def segment_name(number: int) -> str:
    return f"{number:012d}{SEGMENT_SUFFIX}"


@dataclass
class CommitStats:
    """Counters shown by the console and the benchmark (one source of truth)."""

    cycles: int = 0
    records: int = 0
    fsyncs: int = 0
    bytes_written: int = 0
    segments_opened: int = 0
    failed_cycles: int = 0


@dataclass
class _PendingWrite:
    kind: bytes
    parts: list[bytes]  # encode_record's buffers
    result: AsyncResult = field(default_factory=AsyncResult)
    trace: dict[str, float] | None = None  # spool_latency stamps (ECELERITY_EOD_TRACE)
    on_durable: Callable[[Any], None] | None = None  # run by the committer once durable

    def __post_init__(self) -> None:
        self.size = sum(len(part) for part in self.parts)


@dataclass
class _Exclusive:
    function: Callable[..., Any]
    args: tuple
    result: AsyncResult = field(default_factory=AsyncResult)


class JournalWriter:
    """Owns the active segment file; see the module docstring."""

    def __init__(self, segment_dir: str, first_segment: int, *, fsync: bool = True,
                 mode: int = 0o640, segment_bytes: int = 16 << 20, headroom: int = 256 << 10,
                 max_pending: int = 2048, max_cycle_bytes: int = 32 << 20) -> None:
        self.segment_dir = segment_dir
        self.fsync = fsync
        self.headroom = headroom
        self.max_cycle_bytes = max_cycle_bytes
        self.stats = CommitStats()
        self._segment = ActiveSegment(segment_dir, first_segment, self.stats, fsync=fsync,
                                      mode=mode, segment_bytes=segment_bytes, name=segment_name)
        self._io = CycleIO()
        self._queue: deque[_PendingWrite | _Exclusive] = deque()
        self._slots = Semaphore(max_pending)
        self._wakeup = Event()
        self._committer: gevent.Greenlet | None = None
        self._closed = False
        if fsync:
            shorten_switch_interval()

    @property
    def active_segment(self) -> int | None:
        """Number of the segment being appended (None before the first cycle)."""
        return self._segment.number

    @property
    def pending(self) -> int:
        return len(self._queue)

    def append(self, kind: bytes, meta: dict[str, Any], data: bytes = b"", *,
               on_durable: Callable[[Any], None] | None = None) -> tuple[int, int]:
        """Durably append one record; return (segment number, offset of its data).

        ``on_durable(outcome)`` runs in the committer greenlet right after the fdatasync
        covering the record, before any waiter wakes (the SMTP session sends its 250
        from there): it must not block or switch; its exceptions are swallowed.
        """
        write = _PendingWrite(kind, encode_record(kind, meta, data), on_durable=on_durable)
        if spool_latency.ENABLED:
            spool_latency.mark("submit")
            write.trace = spool_latency.current()
        outcome = self._submit(write)
        spool_latency.mark("woken")
        return outcome

    def run_exclusive(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` in the threadpool with no cycle in flight."""
        return self._submit(_Exclusive(function, args))

    def close(self) -> None:
        """Finish queued writes, stop the committer, release the preallocated tail."""
        if self._closed:
            return
        if self._queue:
            self.run_exclusive(lambda: None)
        self._closed = True
        self._wakeup.set()
        if self._committer is not None:
            self._committer.join()
        self._io.close()
        if self._segment.fd is not None:
            self._segment.seal()

    # -- the committer --------------------------------------------------------------

    def _submit(self, item: _PendingWrite | _Exclusive) -> Any:
        if self._closed:
            raise SpoolError("spool: closed")
        with self._slots:
            self._queue.append(item)
            if self._committer is None or self._committer.dead:
                self._committer = gevent.spawn(self._commit_loop)
            self._wakeup.set()
            return item.result.get()

    def _commit_loop(self) -> None:
        started: Cycle | None = None  # handed to the I/O thread, not finished yet
        while started is not None or not self._closed:
            if started is None:
                if not self._queue:
                    self._wakeup.clear()
                    self._wakeup.wait()
                elif isinstance(self._queue[0], _Exclusive):
                    self._run_exclusive_job(self._queue.popleft())
                else:
                    started = self._start_cycle(self._take_cycle())
                continue
            done, outcomes = started, self._finish_cycle(started)
            started = following = None
            if self._queue and isinstance(self._queue[0], _PendingWrite):
                following = self._take_cycle()  # the writes that came in meanwhile
                if not self._needs_segment(following):  # its I/O overlaps the replies
                    started, following = self._start_cycle(following), None
            for write, outcome in zip(done.writes, outcomes, strict=True):
                if write.on_durable is not None and not isinstance(outcome, BaseException):
                    _run_on_durable(write.on_durable, outcome)
            for write, outcome in zip(done.writes, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    write.result.set_exception(outcome)
                else:
                    write.result.set(outcome)
            if following is not None:
                started = self._start_cycle(following)

    def _run_exclusive_job(self, job: _PendingWrite | _Exclusive) -> None:
        assert isinstance(job, _Exclusive)
        try:
            job.result.set(self._io.blocking(job.function, *job.args))
        except BaseException as exc:  # noqa: B036 - handed to the waiter
            job.result.set_exception(exc)

    def _take_cycle(self) -> list[_PendingWrite]:
        cycle: list[_PendingWrite] = []
        cycle_bytes = 0
        while self._queue and isinstance(self._queue[0], _PendingWrite) and (
                not cycle or cycle_bytes + self._queue[0].size <= self.max_cycle_bytes):
            write = self._queue.popleft()
            assert isinstance(write, _PendingWrite)
            cycle.append(write)
            cycle_bytes += write.size
        return cycle

    def _needs_segment(self, writes: list[_PendingWrite]) -> bool:
        segment = self._segment
        batch_bytes = sum(write.size for write in writes if write.kind == b"B")
        return segment.fd is None or bool(
            batch_bytes and segment.offset + batch_bytes + self.headroom > segment.capacity)

    def _start_cycle(self, writes: list[_PendingWrite]) -> Cycle:
        """Open a segment if needed (threadpool), lay the records out, start the I/O."""
        if spool_latency.ENABLED:
            _stamp(writes, "cycle_start", time.perf_counter())
        segment, cycle = self._segment, Cycle(writes, [None] * len(writes))
        try:
            if self._needs_segment(writes):
                batch_bytes = sum(write.size for write in writes if write.kind == b"B")
                self._io.blocking(segment.open_next, batch_bytes + self.headroom, not batch_bytes)
        except OSError as exc:
            error = error_from_oserror(exc, f"opening segment {segment_name(segment.next_number)}")
            for index, write in enumerate(writes):  # keep done/update records going
                if segment.fd is None or write.kind == b"B":
                    cycle.outcomes[index] = error
        except BaseException as exc:  # noqa: B036 - every waiter must wake up
            cycle.outcomes = [exc] * len(writes)
        cycle.chosen = [index for index, outcome in enumerate(cycle.outcomes) if outcome is None]
        buffers: list[bytes] = []
        cycle.start = cycle.end = segment.offset
        for index in cycle.chosen:
            parts = writes[index].parts
            cycle.outcomes[index] = (segment.number, cycle.end + len(parts[0]) + len(parts[1]))
            buffers.extend(parts)
            cycle.end += writes[index].size
        if buffers:
            assert segment.fd is not None
            try:  # (only fails if no I/O thread can be had: eventfd/thread limits)
                self._io.start(segment.fd, buffers, cycle.start, self.fsync)
                cycle.submitted = True
            except Exception as exc:  # every waiter must wake up
                cycle.outcomes = [exc] * len(writes)
        return cycle

    def _finish_cycle(self, cycle: Cycle) -> list[Any]:
        """Wait for the cycle's I/O; (segment, data offset) or an error per write."""
        try:
            if cycle.submitted:
                self._account(cycle, *self._io.finish())
        except BaseException as exc:  # noqa: B036 - every waiter must wake up
            cycle.outcomes = [exc] * len(cycle.writes)
        if spool_latency.ENABLED:
            _stamp(cycle.writes, "cycle_done", self._io.finished_at)
            _stamp(cycle.writes, "resumed", time.perf_counter())
        return cycle.outcomes

    def _account(self, cycle: Cycle, written: int, stage: int, error_number: int) -> None:
        segment = self._segment
        if stage:
            self.stats.failed_cycles += 1
            self._io.blocking(segment.undo, cycle.start, cycle.end, stage == 2)
            error = error_from_oserror(job_error(stage, error_number),
                                       f"writing {segment_name(segment.number or 0)}")
            for index in cycle.chosen:
                cycle.outcomes[index] = error
            return
        if self.fsync:
            self.stats.fsyncs += 1
        segment.offset = cycle.end
        self.stats.cycles += 1
        self.stats.records += len(cycle.chosen)
        self.stats.bytes_written += cycle.end - cycle.start


def _run_on_durable(callback: Callable[[Any], None], outcome: Any) -> None:
    try:
        callback(outcome)
    except Exception:  # a caller's bug must not stop the committer
        log.exception("spool: on_durable callback failed")


def _stamp(cycle: list[_PendingWrite], point: str, stamp: float) -> None:
    for write in cycle:
        if write.trace is not None:
            write.trace[point] = stamp
