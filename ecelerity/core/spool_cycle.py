"""The I/O of a spool commit cycle: the GIL-free append + fdatasync, and the segment files.

Who calls it: spool_commit.py's committer greenlet only (``CycleIO.start``/``finish``
per cycle, ``CycleIO.blocking`` for the rare segment operations, ``ActiveSegment`` for
the segment being appended, ``Cycle`` for one cycle's layout, and
``shorten_switch_interval``). What it must never do: block the hub. ``CycleIO.write`` hands the
pwritev + fdatasync to a dedicated journal I/O thread (ecelerity/_speedups/journalio:
the compiled twin's pthread never takes the GIL) and parks only the calling greenlet
on a gevent io watcher on the worker's eventfd; the watcher has a high libev priority
so the committer runs first in the hub iteration that sees the cycle done. Opening,
sealing and zeroing segments are rare and run in gevent's threadpool.

ECELERITY_JOURNAL_IO=threadpool runs the write in gevent's threadpool instead (A/B of
issue 9). The threadpool is also used whenever ``os.pwritev`` or ``os.fdatasync`` has
been replaced (fault injection in tests, benchmarks/spool_store.py's slow disk): the
compiled worker makes the syscalls itself and would not see the replacement.
"""
from __future__ import annotations

import errno
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent

from ecelerity._speedups import journalio

from .spool_format import SpoolError

_REAL_PWRITEV, _REAL_FDATASYNC = os.pwritev, os.fdatasync
SWITCH_INTERVAL = 0.001  # seconds; see shorten_switch_interval
WATCHER_PRIORITY = int(os.environ.get("ECELERITY_JOURNAL_IO_PRIORITY", "") or 2)  # libev -2..2


class CycleIO:
    """One journal I/O worker per process, waited on by one greenlet at a time."""

    def __init__(self, *, mode: str | None = None, priority: int = WATCHER_PRIORITY) -> None:
        self.mode = mode if mode is not None else os.environ.get("ECELERITY_JOURNAL_IO", "worker")
        self.priority = priority
        self.finished_at = 0.0  # perf_counter when the last write (+ sync) ended
        self._worker: Any = None
        self._watcher: Any = None
        self._pending: Any = None  # the worker, or the threadpool's AsyncResult
        self._pid = 0

    def blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run a rare blocking file operation in gevent's threadpool."""
        return gevent.get_hub().threadpool.spawn(function, *args).get()

    def write(self, fd: int, buffers: list[bytes], offset: int, sync: bool) -> tuple[int, int, int]:
        """pwritev ``buffers`` at ``offset`` (+ fdatasync): journalio's (written, stage, errno)."""
        self.start(fd, buffers, offset, sync)
        return self.finish()

    def start(self, fd: int, buffers: list[bytes], offset: int, sync: bool) -> None:
        """Hand one write (+ sync) to the I/O thread and return at once; ``finish`` waits."""
        if self._pending is not None:
            raise RuntimeError("spool cycle I/O: the previous write is not finished")
        if (self.mode == "threadpool" or os.pwritev is not _REAL_PWRITEV
                or os.fdatasync is not _REAL_FDATASYNC):
            self._pending = gevent.get_hub().threadpool.spawn(_timed_job, fd, buffers, offset,
                                                              sync)
            return
        self._pending = self._ready_worker()
        self._pending.submit(fd, buffers, offset, sync)

    def finish(self) -> tuple[int, int, int]:
        """Park this greenlet until the started write is done; its outcome."""
        pending = self._pending
        if pending is None:
            raise RuntimeError("spool cycle I/O: nothing started")
        try:
            if pending is not self._worker:  # the threadpool's AsyncResult
                outcome, self.finished_at = pending.get()
                return outcome
            while True:
                gevent.get_hub().wait(self._watcher)
                outcome = pending.result()
                if outcome is not None:
                    self.finished_at = pending.finished_at
                    return outcome
        except BaseException:
            if pending is self._worker:
                self._drop_worker()  # killed while the job runs: never reuse a busy worker
            raise
        finally:
            self._pending = None

    @property
    def in_flight(self) -> bool:
        """A write was started and is not finished."""
        return self._pending is not None

    def close(self) -> None:
        self._drop_worker()

    def _ready_worker(self) -> Any:
        if self._worker is None or self._pid != os.getpid():  # a forked child: new thread
            self._worker = journalio.SyncWorker()
            self._watcher = gevent.get_hub().loop.io(self._worker.fileno(), 1,
                                                     priority=self.priority)
            self._pid = os.getpid()
        return self._worker

    def _drop_worker(self) -> None:
        worker, watcher, self._worker, self._watcher = self._worker, self._watcher, None, None
        if watcher is not None:
            watcher.close()
        if worker is not None and self._pid == os.getpid():
            worker.close()  # waits for a job in flight (one fdatasync at most)


@dataclass
class Cycle:
    """One group commit: its writes, their outcomes, the stretch [start, end) it wrote."""

    writes: list[Any]
    outcomes: list[Any]
    chosen: list[int] = field(default_factory=list)  # indices of the writes in the stretch
    start: int = 0
    end: int = 0
    submitted: bool = False  # handed to CycleIO.start (nothing to write otherwise)


def _timed_job(fd: int, buffers: list[bytes], offset: int, sync: bool) -> tuple[Any, float]:
    outcome = journalio._py_write_and_sync(fd, buffers, offset, sync)
    return outcome, time.perf_counter()


def job_error(stage: int, error_number: int) -> OSError:
    """The OSError a failed job stands for (``stage`` names the failed syscall)."""
    call = "fdatasync" if stage == journalio.FAILED_SYNC else "pwritev"
    return OSError(error_number, f"{call}: {os.strerror(error_number)}")


class ActiveSegment:
    """The segment file being appended: fd, append offset, preallocated capacity.

    Every method here blocks (file syscalls): the committer runs them through
    ``CycleIO.blocking``. ``stats`` is the writer's CommitStats (fsyncs, segments).
    """

    def __init__(self, segment_dir: str, first_number: int, stats: Any, *, fsync: bool,
                 mode: int, segment_bytes: int, name: Callable[[int], str]) -> None:
        self.segment_dir, self.stats, self.fsync, self.mode = segment_dir, stats, fsync, mode
        self.segment_bytes, self.name = segment_bytes, name
        self.number: int | None = None
        self.next_number = first_number
        self.fd: int | None = None
        self.offset = 0
        self.capacity = 0

    def open_next(self, need: int, shrink_ok: bool = False) -> None:
        """Open the next segment; ``shrink_ok``: done/update records only, so on a full
        disk a segment of just ``need`` bytes will do (delivery must be able to finish)."""
        number = self.next_number
        path = os.path.join(self.segment_dir, self.name(number))
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
        self.next_number = number + 1
        if self.fd is not None:
            self.seal()
        self.fd, self.offset, self.capacity, self.number = fd, 0, capacity, number
        self.stats.segments_opened += 1

    def seal(self) -> None:
        """Stop appending to the active segment; give back its unused preallocation."""
        if self.fd is None:
            raise SpoolError("spool: no active segment to seal")
        try:
            os.ftruncate(self.fd, self.offset)
        except OSError:
            pass  # a NUL tail is harmless; only space is lost
        os.close(self.fd)
        self.fd = None

    def undo(self, start: int, end: int, seal: bool) -> None:
        """Zero a failed cycle's stretch (NUL = unused space to the scanner), or seal the
        segment when ``seal`` (failed fdatasync: the page cache can't be trusted) or
        when even the zeroing fails."""
        if self.fd is None:
            return
        if seal:
            self.seal()
            return
        try:
            zero_end = min(end, self.capacity)
            if zero_end > start:
                os.pwrite(self.fd, bytes(zero_end - start), start)
            os.ftruncate(self.fd, max(start, self.capacity))
        except OSError:
            self.seal()


def shorten_switch_interval() -> None:
    """Threads other than the hub (gevent's threadpool: log writes, segment opens; the
    pure-Python journal I/O thread) need the GIL after each syscall while the hub runs
    Python; at CPython's default 5 ms switch interval each wait can take that long.
    The compiled journal I/O thread never needs it, yet 1 ms still measured better with
    it: relay probe p99 EOD->250 67-86 ms vs 80-147 ms at 5 ms, msg/s 251-314 vs
    184-234 (3 interleaved runs each, box at load 7-9, 2026-11-22; issue 9,
    benchmarks/relay_cprofile.py --trace). ECELERITY_SWITCH_INTERVAL overrides
    (seconds; 0 leaves the interpreter's own)."""
    wanted = float(os.environ.get("ECELERITY_SWITCH_INTERVAL", "") or SWITCH_INTERVAL)
    if wanted > 0 and sys.getswitchinterval() > wanted:
        sys.setswitchinterval(wanted)


def fsync_dir(path: str) -> None:
    dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
