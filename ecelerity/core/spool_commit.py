"""Group commit: the one writer of the spool journal, many records per fsync, hub never blocked.

Who calls it: spool.py only (``append`` for batch/done/update records, ``run_exclusive``
for load/unlink jobs). Nothing else writes segment files.

How a write becomes durable:
1. ``append()`` (in a session or delivery greenlet) encodes the record (header, meta,
   checksum: GIL work, done where it is asked for), takes a slot of the bounded pending
   queue (back-pressure: it waits when ``max_pending`` writes are outstanding), lays it
   out at the end of what is already queued in the active segment and hands it straight
   to the journal I/O thread (spool_cycle.CycleIO), then waits on its own AsyncResult.
2. The thread takes everything queued, writes it with one ``pwritev`` per contiguous
   run (at most ``max_cycle_bytes``), ``fdatasync``s, sends the replies that were waiting
   for it (an SMTP session's 250: spool_cycle.DurableReply, no hub hop at all), reports,
   and goes straight on with what queued meanwhile: cycles chain on the thread, so the
   number of fsyncs follows the disk's speed, not the message rate, and a busy hub never
   delays an fsync. A slow disk costs latency, not throughput.
3. One committer greenlet parks on the thread's eventfd; for each reported batch it runs
   the writes' ``on_durable`` callbacks and wakes their waiters. Work the thread cannot
   do waits in the committer's own queue (``_held``), in order, and everything appended
   after it waits there too: exclusive jobs (``run_exclusive``), and a batch record that
   needs a new segment. They run once nothing is queued at the thread.
4. Segments are preallocated (``posix_fallocate``) to ``segment_bytes``. A batch record
   must leave ``headroom`` bytes free in the segment, or the committer first opens a new
   segment (file fsync + directory fsync, in gevent's threadpool); done/update records
   may use the headroom. So when the disk is full new mail is refused (SpoolFullError
   -> 452 4.3.1) but delivery can still record what it delivered, and emptied segments
   get deleted.
5. A failed batch (any OSError) fails its writes with SpoolError/SpoolFullError (their
   replies are never sent); the thread halts and hands back what was queued after it
   (CANCELLED), the stretch it wrote is zeroed (NUL tail = unused space to the scanner)
   and the handed-back writes are laid out again over it. If even that fails, or if
   fdatasync failed (the page cache can no longer be trusted), the segment is sealed and
   the next write opens a new one.
"""
from __future__ import annotations

import logging
import os  # noqa: F401 - tests, benchmarks/spool_store.py patch spool_commit.os.*
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import gevent
from gevent.event import Event
from gevent.lock import Semaphore

from ecelerity._speedups import journalio

from . import spool_latency
from .spool_cycle import (ActiveSegment, CycleIO, DurableReply, fsync_dir, job_error,
                          shorten_switch_interval)
from .spool_format import SpoolError, encode_record, error_from_oserror
from .spool_held import Exclusive as _Exclusive, HeldWork, PendingWrite as _PendingWrite

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


class JournalWriter(HeldWork):
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
        self._io = CycleIO(sync=fsync, max_batch_bytes=max_cycle_bytes)
        self._held: deque[_PendingWrite | _Exclusive] = deque()  # waiting for the committer
        self._queued: deque[_PendingWrite] = deque()  # at the I/O thread, in its order
        self._layout_end = 0  # offset where the next record queued at the thread goes
        self._recovering = False  # a batch failed: nothing goes to the thread until resumed
        self._handed_back: list[_PendingWrite] = []  # CANCELLED by the thread, in order
        self._wakeup = Event()  # the committer's alarm while nothing is at the thread
        self._slots = Semaphore(max_pending)
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
        return len(self._held) + len(self._queued)

    def append(self, kind: bytes, meta: dict[str, Any], data: bytes = b"", *,
               on_durable: Callable[[Any], None] | None = None) -> tuple[int, int]:
        """Durably append one record; return (segment number, offset of its data).

        ``on_durable(outcome)`` runs in the committer greenlet right after the fdatasync
        covering the record, before any waiter wakes: it must not block or switch; its
        exceptions are swallowed. A ``spool_cycle.DurableReply`` given as ``on_durable``
        is sent by the I/O thread itself, right after that fdatasync.
        """
        write = _PendingWrite(kind, encode_record(kind, meta, data))
        if type(on_durable) is DurableReply:
            write.reply = on_durable
        else:
            write.on_durable = on_durable
        if spool_latency.ENABLED:
            spool_latency.mark("submit")
            write.trace = spool_latency.current()
        outcome = self._submit(write)
        spool_latency.mark("woken")
        return outcome

    def run_exclusive(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` in the threadpool with no write queued at the thread."""
        return self._submit(_Exclusive(function, args))

    def close(self) -> None:
        """Finish queued writes, stop the committer, release the preallocated tail."""
        if self._closed:
            return
        if self._held or self._queued:
            self.run_exclusive(lambda: None)
        self._closed = True
        self._wakeup.set()
        if self._committer is not None:
            self._committer.join()
        self._io.close()
        if self._segment.fd is not None:
            self._segment.seal()

    # -- queueing -------------------------------------------------------------------

    def _submit(self, item: _PendingWrite | _Exclusive) -> Any:
        if self._closed:
            raise SpoolError("spool: closed")
        with self._slots:
            if self._committer is None or self._committer.dead:
                self._committer = gevent.spawn(self._commit_loop)
            if isinstance(item, _PendingWrite) and not self._held and self._fits(item):
                self._to_thread(item)
            else:
                self._held.append(item)
                self._wakeup.set()
            return item.result.get()

    def _fits(self, write: _PendingWrite) -> bool:
        """Can ``write`` go to the thread now, in the active segment? (A batch record
        must leave ``headroom`` free; done/update records may use it.)"""
        if self._recovering or self._segment.fd is None:
            return False
        return write.kind != b"B" or (
            self._layout_end + write.size + self.headroom <= self._segment.capacity)

    def _to_thread(self, write: _PendingWrite) -> None:
        segment = self._segment
        assert segment.fd is not None and segment.number is not None
        write.offset = self._layout_end
        write.outcome = (segment.number, write.offset + len(write.parts[0]) + len(write.parts[1]))
        try:
            self._io.enqueue(segment.fd, write.offset, write.parts, write.reply)
        except Exception as exc:  # no I/O thread to be had (eventfd / thread limits)
            self._fail(write, exc)
            return
        self._layout_end += write.size
        self._queued.append(write)
        self._wakeup.set()  # a committer parked on the alarm moves to the thread's eventfd

    # -- the committer --------------------------------------------------------------

    def _commit_loop(self) -> None:
        while not (self._closed and not self._held and not self._queued):
            if self._queued:
                self._io.wait()  # (a referenced watcher only while the thread has work)
                for batch in self._io.take_done():
                    self._complete(*batch)
            elif not self._held:
                self._wakeup.clear()
                self._wakeup.wait()
                continue
            if self._recovering and not self._queued:
                self._held.extendleft(reversed(self._handed_back))
                self._handed_back = []
                self._layout_end = self._segment.offset
                self._recovering = False
                self._io.resume()
            if self._held and not self._queued:
                self._run_held()

    def _complete(self, count: int, written: int, stage: int, error_number: int,
                  started_at: float, finished_at: float, sent: tuple[int, ...]) -> None:
        """One batch the thread reported: the next ``count`` writes of ``_queued``."""
        writes = [self._queued.popleft() for _ in range(count)]
        if spool_latency.ENABLED:
            _stamp(writes, "cycle_start", started_at)
            _stamp(writes, "cycle_done", finished_at)
            _stamp(writes, "resumed", time.perf_counter())
        if stage == journalio.CANCELLED:  # queued after a failed batch: lay out again
            self._handed_back.extend(writes)
            return
        if stage:
            self._failed_batch(writes, stage, error_number)
            return
        segment = self._segment
        if self.fsync:
            self.stats.fsyncs += 1
        segment.offset = writes[-1].offset + writes[-1].size
        self.stats.cycles += 1
        self.stats.records += count
        self.stats.bytes_written += written
        for write, sent_bytes in zip(writes, sent, strict=True):
            if write.reply is not None:
                _run_on_durable(write.reply.delivered, sent_bytes, finished_at)
            elif write.on_durable is not None:
                _run_on_durable(write.on_durable, write.outcome)
        for write in writes:
            write.result.set(write.outcome)

    def _failed_batch(self, writes: list[_PendingWrite], stage: int, error_number: int) -> None:
        segment = self._segment
        self.stats.failed_cycles += 1
        self._recovering = True  # the thread halted; what it hands back is laid out again
        error = error_from_oserror(job_error(stage, error_number),
                                   f"writing {segment_name(segment.number or 0)}")
        try:
            self._io.blocking(segment.undo, writes[0].offset,
                              writes[-1].offset + writes[-1].size, stage == journalio.FAILED_SYNC)
        finally:
            for write in writes:
                self._fail(write, error)

    def _fail(self, write: _PendingWrite, error: BaseException) -> None:
        if write.reply is not None:
            write.reply.release()
        write.result.set_exception(error)


def _run_on_durable(callback: Callable[..., None], *args: Any) -> None:
    try:
        callback(*args)
    except Exception:  # a caller's bug must not stop the committer
        log.exception("spool: on_durable callback failed")


def _stamp(cycle: list[_PendingWrite], point: str, stamp: float) -> None:
    for write in cycle:
        if write.trace is not None:
            write.trace[point] = stamp
