"""Journal I/O worker: one OS thread writing queued records, fdatasync'ing, sending replies.

Who calls it: ecelerity/core/spool_cycle.py (the spool's group commit). The hub
``enqueue``s records -- the buffers of one journal record at its offset in a segment
file, and optionally a reply to send on a socket once the record is durable -- and
never waits. The thread takes every record queued (a *batch*: the longest run on one
fd at contiguous offsets, up to ``max_batch_bytes``), writes it with pwritev (partial
writes and EINTR retried, at most IOV_MAX buffers per call), fdatasyncs it if ``sync``,
then sends each record's reply (non-blocking; it closes the reply fd, which is the
hub's dup of the socket, after trying) and reports the batch, then takes the records
that queued meanwhile: cycles chain on the thread, not on the hub. ``min_interval``
(seconds) spaces the starts of two takes: on a fast disk a batch per arrival would
cost an fdatasync per record, so records arriving within it join one batch. A batch is
reported as ``(count, written, stage, errno, started_at, finished_at, sent)`` by
``take_done()`` after the thread wrote 1 to the caller's ``eventfd``: ``stage`` is OK /
FAILED_WRITE / FAILED_SYNC / CANCELLED, ``sent`` the bytes of each record's reply that
the kernel took (-1: no reply, not sent, or the send failed), the times are
time.perf_counter() (CLOCK_MONOTONIC). After a failed batch the worker *halts*: every
record still queued, or queued later, is reported CANCELLED (nothing written, reply fd
left open: it is the hub's again) until ``resume()``. Replies are sent only after the
fdatasync covering their record returned 0 (or the pwritev, when ``sync`` is false):
never a 250 for a record that is not durable. A worker inherited across a fork is
closed (its thread did not follow). ``write_and_sync`` is one batch's I/O.

This module is the reference (a ``threading.Thread``; it needs the GIL between its
syscalls, and looks ``os.pwritev`` / ``os.fdatasync`` up at each call, so fault
injection in tests reaches it); ``_c_journalio.pyx`` is its compiled twin whose pthread
never takes the GIL at all (checked by tests/unit/speedups/test_journalio*.py). It
never raises from the worker thread and never touches the rest of ecelerity.
"""
from __future__ import annotations

import errno
import os
import threading
import time
from collections import deque
from typing import Any

from . import compiled_twin

OK, FAILED_WRITE, FAILED_SYNC, CANCELLED = 0, 1, 2, 3
IOV_MAX = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024


def write_and_sync(fd: int, buffers: list[Any], offset: int, sync: bool) -> tuple[int, int, int]:
    """pwritev all of ``buffers`` at ``offset``, then fdatasync if ``sync``: the job.

    Returns ``(bytes_written, failed_stage, errno)``; never raises for an I/O error.
    """
    views = [memoryview(buffer).cast("B") for buffer in buffers if len(buffer)]
    written = first = 0
    while first < len(views):
        try:
            count = os.pwritev(fd, views[first:first + IOV_MAX], offset + written)
        except OSError as exc:  # EINTR is retried by os.pwritev itself (PEP 475)
            return written, FAILED_WRITE, exc.errno or errno.EIO
        except Exception:  # noqa: BLE001 - a replaced os.pwritev; still a failed write
            return written, FAILED_WRITE, errno.EIO
        if count <= 0:
            return written, FAILED_WRITE, errno.EIO
        written += count
        while first < len(views) and count >= len(views[first]):
            count -= len(views[first])
            first += 1
        if count:
            views[first] = views[first][count:]
    if sync:
        try:
            os.fdatasync(fd)
        except OSError as exc:
            return written, FAILED_SYNC, exc.errno or errno.EIO
        except Exception:  # noqa: BLE001 - a replaced os.fdatasync; still a failed sync
            return written, FAILED_SYNC, errno.EIO
    return written, OK, 0


class JournalWorker:
    """One dedicated thread writing the queued records in chained batches; see the module."""

    def __init__(self, eventfd: int, sync: bool = True, max_batch_bytes: int = 32 << 20,
                 min_interval: float = 0.0) -> None:
        self._eventfd = eventfd
        self._sync = bool(sync)
        self._max_batch_bytes = max(1, max_batch_bytes)
        self._min_interval = max(0.0, min_interval)
        self._last_start = 0.0
        self._cond = threading.Condition()
        self._queue: deque[tuple[int, int, list[memoryview], int, int, Any]] = deque()
        self._done: list[tuple[int, int, int, int, float, float, tuple[int, ...]]] = []
        self._halted = False
        self._closing = False
        self._pid = os.getpid()  # a forked child has no worker thread
        self._thread = threading.Thread(target=self._run, name="journal-io", daemon=True)
        self._thread.start()

    def enqueue(self, fd: int, offset: int, buffers: list[Any], reply_fd: int = -1,
                reply: Any = None) -> None:
        """Queue one record (``reply`` sent on ``reply_fd`` once it is durable); never blocks."""
        if self._closing or self._pid != os.getpid():
            raise RuntimeError("journal-io worker: closed (or inherited across a fork)")
        views = [memoryview(buffer).cast("B") for buffer in buffers if len(buffer)]
        size = sum(len(view) for view in views)
        record = (fd, offset, views, size, reply_fd, None if reply is None else memoryview(reply))
        with self._cond:
            self._queue.append(record)
            self._cond.notify()

    def take_done(self) -> list[tuple[int, int, int, int, float, float, tuple[int, ...]]]:
        """The batches reported since the last call, oldest first (clears the eventfd)."""
        try:
            os.eventfd_read(self._eventfd)
        except BlockingIOError:
            pass
        with self._cond:
            done, self._done = self._done, []
        return done

    def resume(self) -> None:
        """Accept work again after a failed batch (records queued meanwhile were cancelled)."""
        with self._cond:
            self._halted = False
            self._cond.notify()

    def close(self) -> None:
        """Write what is queued, stop the thread. Idempotent; the eventfd stays the caller's."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify()
        if self._pid == os.getpid():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
            pause = self._last_start + self._min_interval - time.perf_counter()
            if pause > 0:  # at most one batch per min_interval: the rest joins it
                time.sleep(pause)
            with self._cond:
                taken, self._queue = self._queue, deque()
            self._last_start = time.perf_counter()
            self._drain(list(taken))

    def _drain(self, taken: list[tuple[int, int, list[memoryview], int, int, Any]]) -> None:
        """Write ``taken`` in batches (runs on one fd at contiguous offsets, at most
        ``max_batch_bytes``); after a failed batch the rest is reported CANCELLED."""
        first = 0
        while first < len(taken):
            with self._cond:
                halted = self._halted
            if halted:
                now = time.perf_counter()
                self._report((len(taken) - first, 0, CANCELLED, 0, now, now,
                              (-1,) * (len(taken) - first)))
                return
            fd, offset, _, total, _, _ = taken[first]
            last = first + 1
            while (last < len(taken) and taken[last][0] == fd
                   and taken[last][1] == offset + total
                   and total + taken[last][3] <= self._max_batch_bytes):
                total += taken[last][3]
                last += 1
            batch = taken[first:last]
            started = time.perf_counter()
            buffers = [view for record in batch for view in record[2]]
            written, stage, error = write_and_sync(fd, buffers, offset, self._sync)
            sent = tuple(_send(record[4], record[5]) if not stage else -1 for record in batch)
            self._report((len(batch), written, stage, error, started, time.perf_counter(), sent))
            first = last

    def _report(self, batch: tuple[int, int, int, int, float, float, tuple[int, ...]]) -> None:
        with self._cond:
            self._done.append(batch)
            if batch[2]:
                self._halted = True
        os.eventfd_write(self._eventfd, 1)


def _send(fd: int, reply: Any) -> int:
    """Send ``reply`` on ``fd`` without waiting, then close ``fd``: bytes the kernel took."""
    if fd < 0:
        return -1
    try:
        return os.write(fd, reply) if reply is not None else -1
    except (BlockingIOError, InterruptedError):
        return 0
    except OSError:
        return -1
    finally:
        os.close(fd)


_py_JournalWorker = JournalWorker
_py_write_and_sync = write_and_sync
IMPLEMENTATION = "python"

_twin = compiled_twin("journalio")
if _twin is not None:
    JournalWorker = _twin.JournalWorker  # noqa: F811  (compiled twin)
    IMPLEMENTATION = "cython"
