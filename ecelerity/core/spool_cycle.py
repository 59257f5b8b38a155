"""The I/O side of the spool's group commit: the journal I/O thread, and the segment files.

Who calls it: spool_commit.py's JournalWriter only (``CycleIO`` to queue records and to
park its committer greenlet until the thread reports, ``CycleIO.blocking`` for the rare
segment operations, ``ActiveSegment`` for the segment being appended,
``DurableReply`` for a reply the thread sends once its record is durable, and
``shorten_switch_interval``). What it must never do: block the hub. Records go to a
dedicated journal I/O thread (ecelerity/_speedups/journalio: the compiled twin's pthread
never takes the GIL) that writes, fdatasyncs, sends the replies and chains the next
batch itself; the committer parks on a gevent io watcher on the eventfd the thread
signals, at a high libev priority so it runs first in the hub iteration that sees it.
Opening, sealing and zeroing segments are rare and run in gevent's threadpool.

ECELERITY_JOURNAL_IO=python runs the reference (Python thread) worker instead of the
compiled one (A/B of issue 9). The reference is also used whenever ``os.pwritev`` or
``os.fdatasync`` has been replaced (fault injection in tests, benchmarks/spool_store.py's
slow disk): the compiled worker makes the syscalls itself and would not see the
replacement. The switch happens only while nothing is queued.
"""
from __future__ import annotations

import errno
import os
import sys
from typing import Any, Callable

import gevent

from ecelerity._speedups import journalio

from .spool_format import SpoolError

_REAL_PWRITEV, _REAL_FDATASYNC = os.pwritev, os.fdatasync
SWITCH_INTERVAL = 0.001  # seconds; see shorten_switch_interval
WATCHER_PRIORITY = int(os.environ.get("ECELERITY_JOURNAL_IO_PRIORITY", "") or 2)  # libev -2..2
# Seconds between the starts of two journal batches (journalio's min_interval). With
# batches chained eagerly on the thread, a fast disk (fdatasync 0.1-0.2 ms here) gets one
# batch per arriving record: spool_store.py at 20 writers went from 1,000 cycles per
# 20,000 records (hub-driven cycles) to 3,000-3,900, and the extra fdatasyncs cost CPU
# the hub needs. 1 ms caps them at 1,000/s and adds at most 1 ms to a reply (issue 9,
# 2026-11-22). ECELERITY_JOURNAL_BATCH_US overrides (microseconds; 0 = eager).
BATCH_INTERVAL = float(os.environ.get("ECELERITY_JOURNAL_BATCH_US", "") or 1000) / 1e6


class DurableReply:
    """A reply the journal I/O thread sends on a client's socket once its record is durable.

    ``fd`` is a dup of the socket's descriptor, so the session closing its socket
    meanwhile can never send the reply to a connection that reused the number; the thread
    closes the dup after sending, the hub (``release``) when the record was not written.
    ``delivered(sent, at)`` runs on the hub afterwards (the session queues what the
    kernel did not take); it must not block or switch.
    """

    __slots__ = ("fd", "data", "_delivered")

    def __init__(self, socket_fd: int, data: bytes,
                 delivered: Callable[[int, float], None]) -> None:
        self.fd = os.dup(socket_fd)
        self.data = data
        self._delivered = delivered

    def delivered(self, sent: int, at: float) -> None:
        """The thread tried to send (and closed its dup): ``sent`` bytes, -1 on error."""
        self.fd = -1
        self._delivered(sent, at)

    def release(self) -> None:
        """The record failed: nothing was sent; close the dup."""
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


class CycleIO:
    """The process's journal I/O worker, its eventfd and the watcher the committer parks on."""

    def __init__(self, *, sync: bool = True, max_batch_bytes: int = 32 << 20,
                 mode: str | None = None, priority: int = WATCHER_PRIORITY,
                 batch_interval: float = BATCH_INTERVAL) -> None:
        self.mode = mode if mode is not None else os.environ.get("ECELERITY_JOURNAL_IO", "worker")
        self.sync, self.max_batch_bytes, self.priority = sync, max_batch_bytes, priority
        self.batch_interval = batch_interval if sync else 0.0  # (no fdatasync: no reason)
        self.outstanding = 0  # records enqueued and not yet reported
        self._worker: Any = None
        self._compiled = False
        self._eventfd = -1
        self._watcher: Any = None
        self._pid = 0

    def blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run a rare blocking file operation in gevent's threadpool."""
        return gevent.get_hub().threadpool.spawn(function, *args).get()

    def enqueue(self, fd: int, offset: int, buffers: list[bytes],
                reply: DurableReply | None = None) -> None:
        """Queue one record at ``offset`` of ``fd`` for the I/O thread; never waits."""
        worker = self._ready_worker()
        if reply is None:
            worker.enqueue(fd, offset, buffers)
        else:
            worker.enqueue(fd, offset, buffers, reply.fd, reply.data)
        self.outstanding += 1

    def wait(self) -> None:
        """Park this greenlet until the I/O thread reports a batch."""
        self._ready_worker()
        gevent.get_hub().wait(self._watcher)

    def take_done(self) -> list[tuple[int, int, int, int, float, float, tuple[int, ...]]]:
        """The batches the thread reported, oldest first (see journalio)."""
        if self._worker is None:
            self._clear_eventfd()
            return []
        done = self._worker.take_done()
        for batch in done:
            self.outstanding -= batch[0]
        return done

    def resume(self) -> None:
        """After a failed batch: the worker accepts records again."""
        if self._worker is not None:
            self._worker.resume()

    def close(self) -> None:
        worker, watcher, self._worker, self._watcher = self._worker, self._watcher, None, None
        if watcher is not None:
            watcher.close()
        if self._pid == os.getpid():
            if worker is not None:
                worker.close()  # writes what is queued (the writer drained it first)
            if self._eventfd >= 0:
                os.close(self._eventfd)
        self._eventfd = -1

    def _ready_worker(self) -> Any:
        if self._pid != os.getpid():  # first use, or a forked child: a new thread and eventfd
            self._worker = self._watcher = None
            self._eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._watcher = gevent.get_hub().loop.io(self._eventfd, 1, priority=self.priority)
            self._pid = os.getpid()
            self.outstanding = 0
        compiled = (self.mode != "python" and os.pwritev is _REAL_PWRITEV
                    and os.fdatasync is _REAL_FDATASYNC
                    and journalio.JournalWorker is not journalio._py_JournalWorker)
        if self._worker is None or (compiled != self._compiled and not self.outstanding):
            if self._worker is not None:
                self._worker.close()
            factory = journalio.JournalWorker if compiled else journalio._py_JournalWorker
            self._worker = factory(self._eventfd, self.sync, self.max_batch_bytes,
                                   self.batch_interval)
            self._compiled = compiled
        return self._worker

    def _clear_eventfd(self) -> None:
        if self._eventfd >= 0:
            try:
                os.eventfd_read(self._eventfd)
            except BlockingIOError:
                pass


def job_error(stage: int, error_number: int) -> OSError:
    """The OSError a failed batch stands for (``stage`` names the failed syscall)."""
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
