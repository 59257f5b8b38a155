"""Group commit: the one writer of the spool journal, off the hub, many records per fsync.

Who calls it: spool.py only (``append`` for batch/done/update records, ``run_exclusive``
for load/unlink jobs). Nothing else writes segment files.

How a write becomes durable:
1. ``append()`` (in a session or delivery greenlet) encodes nothing, takes a slot of the
   bounded pending queue (back-pressure: it waits when ``max_pending`` writes are
   queued), enqueues the write and waits on its own AsyncResult.
2. One committer greenlet takes *everything* queued (up to ``max_cycle_bytes``) and runs
   one cycle in gevent's threadpool: encode + checksum, one ``pwritev`` at the end of the
   active segment, one ``fdatasync``. Then it runs each write's ``on_durable`` callback
   (the SMTP session's 250 goes out from there: no hub hop, no waiting behind the other
   woken sessions) and wakes every waiter of that cycle. Because the cycle thread needs
   the GIL after each syscall, the interpreter's switch interval is cut to 1 ms.
   While a cycle is in the pool, new writes pile up and form the next cycle, so the
   number of fsyncs follows the disk's speed, not the message rate: a slow disk costs
   latency, not throughput. The hub never waits on I/O.
3. Segments are preallocated (``posix_fallocate``) to ``segment_bytes``. A batch record
   must leave ``headroom`` bytes free in the segment, or the cycle first opens a new
   segment (file fsync + directory fsync); done/update records may use the headroom.
   So when the disk is full new mail is refused (SpoolFullError -> 452 4.3.1) but
   delivery can still record what it delivered, and emptied segments get deleted.
4. A failed cycle (any OSError) fails all its writes with SpoolError/SpoolFullError; the
   stretch it wrote is zeroed (NUL tail = unused space to the scanner) and the next cycle
   writes over it. If even that fails, or if fdatasync failed (the page cache can no
   longer be trusted), the segment is sealed and the next cycle opens a new one.
"""
from __future__ import annotations

import errno
import logging
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent
from gevent.event import AsyncResult, Event
from gevent.lock import Semaphore

from . import spool_latency
from .spool_format import SpoolError, encode_record, error_from_oserror

SEGMENT_SUFFIX = ".seg"
SWITCH_INTERVAL = 0.001  # seconds; see _shorten_switch_interval
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
    meta: dict[str, Any]
    data: bytes
    result: AsyncResult = field(default_factory=AsyncResult)
    trace: dict[str, float] | None = None  # spool_latency stamps (ECELERITY_EOD_TRACE)
    on_durable: Callable[[Any], None] | None = None  # run by the committer once durable

    @property
    def approx_size(self) -> int:
        return len(self.data) + 512


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
        self.mode = mode
        self.segment_bytes = segment_bytes
        self.headroom = headroom
        self.max_cycle_bytes = max_cycle_bytes
        self.stats = CommitStats()
        self.active_segment: int | None = None  # number of the segment being appended
        self._next_segment = first_segment
        self._fd: int | None = None
        self._offset = 0
        self._capacity = 0
        self._queue: deque[_PendingWrite | _Exclusive] = deque()
        self._slots = Semaphore(max_pending)
        self._wakeup = Event()
        self._committer: gevent.Greenlet | None = None
        self._closed = False
        self._cycle_done = 0.0  # perf_counter when the last cycle ended (for spool_latency)
        if fsync:
            _shorten_switch_interval()

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
        write = _PendingWrite(kind, meta, data, on_durable=on_durable)
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
        if self._fd is not None:
            self._seal()

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
        threadpool = gevent.get_hub().threadpool
        while not self._closed:
            if not self._queue:
                self._wakeup.clear()
                self._wakeup.wait()
                continue
            if isinstance(self._queue[0], _Exclusive):
                job = self._queue.popleft()
                assert isinstance(job, _Exclusive)
                try:
                    job.result.set(threadpool.spawn(job.function, *job.args).get())
                except BaseException as exc:  # noqa: B036 - handed to the waiter
                    job.result.set_exception(exc)
                continue
            cycle: list[_PendingWrite] = []
            cycle_bytes = 0
            while self._queue and isinstance(self._queue[0], _PendingWrite) and (
                    not cycle or cycle_bytes + self._queue[0].approx_size <= self.max_cycle_bytes):
                write = self._queue.popleft()
                assert isinstance(write, _PendingWrite)
                cycle.append(write)
                cycle_bytes += write.approx_size
            if spool_latency.ENABLED:
                _stamp(cycle, "cycle_start", time.perf_counter())
            try:
                outcomes = threadpool.spawn(self._write_cycle, cycle).get()
            except BaseException as exc:  # noqa: B036 - every waiter must wake up
                outcomes = [exc] * len(cycle)
            if spool_latency.ENABLED:
                _stamp(cycle, "cycle_done", self._cycle_done)
                _stamp(cycle, "resumed", time.perf_counter())
            for write, outcome in zip(cycle, outcomes, strict=True):
                if write.on_durable is not None and not isinstance(outcome, BaseException):
                    _run_on_durable(write.on_durable, outcome)
            for write, outcome in zip(cycle, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    write.result.set_exception(outcome)
                else:
                    write.result.set(outcome)

    # -- inside the threadpool -------------------------------------------------------

    def _write_cycle(self, cycle: list[_PendingWrite]) -> list[Any]:
        outcomes: list[Any] = [None] * len(cycle)
        encoded = [encode_record(write.kind, write.meta, write.data) for write in cycle]
        sizes = [sum(len(part) for part in parts) for parts in encoded]
        batch_bytes = sum(size for write, size in zip(cycle, sizes, strict=True) if write.kind == b"B")
        try:
            if self._fd is None or (
                    batch_bytes and self._offset + batch_bytes + self.headroom > self._capacity):
                self._open_segment(batch_bytes + self.headroom, shrink_ok=not batch_bytes)
        except OSError as exc:
            error = error_from_oserror(exc, f"opening segment {segment_name(self._next_segment)}")
            if self._fd is None:
                return [error] * len(cycle)
            for index, write in enumerate(cycle):  # keep done/update records going
                if write.kind == b"B":
                    outcomes[index] = error
        chosen = [index for index in range(len(cycle)) if outcomes[index] is None]
        buffers: list[bytes] = []
        offset = start = self._offset
        for index in chosen:
            header, meta_bytes = encoded[index][0], encoded[index][1]
            outcomes[index] = (self.active_segment, offset + len(header) + len(meta_bytes))
            buffers.extend(encoded[index])
            offset += sizes[index]
        if not buffers:
            return outcomes
        assert self._fd is not None
        failure: OSError | None = None
        try:
            _pwrite_all(self._fd, buffers, start)
        except OSError as exc:
            failure = exc
            self._undo(start, offset, seal=False)
        if failure is None and self.fsync:
            try:
                os.fdatasync(self._fd)
                self.stats.fsyncs += 1
            except OSError as exc:
                failure = exc
                self._undo(start, offset, seal=True)
        if failure is not None:
            self.stats.failed_cycles += 1
            error = error_from_oserror(failure, f"writing {segment_name(self.active_segment or 0)}")
            for index in chosen:
                outcomes[index] = error
            return outcomes
        self._offset = offset
        self.stats.cycles += 1
        self.stats.records += len(chosen)
        self.stats.bytes_written += offset - start
        self._cycle_done = time.perf_counter()
        return outcomes

    def _open_segment(self, need: int, *, shrink_ok: bool = False) -> None:
        """Open the next segment; ``shrink_ok``: done/update records only, so on a full
        disk a segment of just ``need`` bytes will do (delivery must be able to finish)."""
        number = self._next_segment
        path = os.path.join(self.segment_dir, segment_name(number))
        capacity = max(self.segment_bytes, need)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, self.mode)
        try:
            try:
                os.posix_fallocate(fd, 0, capacity)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT) and shrink_ok:
                    capacity = need
                    os.posix_fallocate(fd, 0, capacity)
                elif exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # no preallocation
                    raise
            if self.fsync:
                os.fsync(fd)
                fsync_dir(self.segment_dir)
                self.stats.fsyncs += 2
        except OSError:
            os.close(fd)
            os.unlink(path)
            raise
        self._next_segment = number + 1
        if self._fd is not None:
            self._seal()
        self._fd, self._offset, self._capacity = fd, 0, capacity
        self.active_segment = number
        self.stats.segments_opened += 1

    def _seal(self) -> None:
        """Stop appending to the active segment; give back its unused preallocation."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._offset)
        except OSError:
            pass  # a NUL tail is harmless; only space is lost
        os.close(self._fd)
        self._fd = None

    def _undo(self, start: int, end: int, *, seal: bool) -> None:
        assert self._fd is not None
        if seal:
            self._seal()
            return
        try:
            zero_end = min(end, self._capacity)
            if zero_end > start:
                os.pwrite(self._fd, bytes(zero_end - start), start)
            os.ftruncate(self._fd, max(start, self._capacity))
        except OSError:
            self._seal()


def _shorten_switch_interval() -> None:
    """The cycle's thread needs the GIL three times (start, after pwritev, after
    fdatasync) while the hub runs Python; at CPython's default 5 ms switch interval each
    wait can take that long. With 1 ms the relay's probe p99 EOD->250 was 31-40 ms
    against 46-76 ms at 5 ms (3 interleaved runs each on a loaded box; issue 9,
    benchmarks/relay_cprofile.py --trace). ECELERITY_SWITCH_INTERVAL overrides (seconds;
    0 leaves the interpreter's own)."""
    wanted = float(os.environ.get("ECELERITY_SWITCH_INTERVAL", "") or SWITCH_INTERVAL)
    if wanted > 0 and sys.getswitchinterval() > wanted:
        sys.setswitchinterval(wanted)


def _run_on_durable(callback: Callable[[Any], None], outcome: Any) -> None:
    try:
        callback(outcome)
    except Exception:  # a caller's bug must not stop the committer
        log.exception("spool: on_durable callback failed")


def _stamp(cycle: list[_PendingWrite], point: str, stamp: float) -> None:
    for write in cycle:
        if write.trace is not None:
            write.trace[point] = stamp


def _pwrite_all(fd: int, buffers: list[bytes], offset: int) -> None:
    views = [memoryview(buffer) for buffer in buffers if buffer]
    first = 0
    while first < len(views):
        written = os.pwritev(fd, views[first:first + 512], offset)
        offset += written
        while first < len(views) and written >= len(views[first]):
            written -= len(views[first])
            first += 1
        if written:
            views[first] = views[first][written:]


def fsync_dir(path: str) -> None:
    dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
