"""Journal I/O worker: one OS thread doing pwritev + fdatasync, done signalled on an eventfd.

Who calls it: ecelerity/core/spool_cycle.py (the spool's group commit). The caller
(a greenlet on the hub) ``submit``s one job -- write ``buffers`` at ``offset`` of ``fd``
(all of them: partial writes and EINTR are retried, at most IOV_MAX buffers per call),
then ``fdatasync(fd)`` if ``sync`` -- and watches ``fileno()`` (an eventfd) for
readability; ``result()`` then returns ``(bytes_written, failed_stage, errno)`` with
``failed_stage`` one of OK / FAILED_WRITE / FAILED_SYNC. One job in flight at a time;
``result()`` must be taken before the next ``submit``; a worker inherited across a
fork is closed (its thread did not follow). The worker keeps the buffers
(as memoryviews) alive until ``result()``. ``finished_at`` is the time.perf_counter()
(CLOCK_MONOTONIC) at which the last job ended. ``write_and_sync`` is the job itself,
callable from any thread (the spool's threadpool fallback).

This module is the reference (a ``threading.Thread``; it needs the GIL between its
syscalls); ``_c_journalio.pyx`` is its compiled twin whose pthread never takes the
GIL at all (checked by tests/unit/speedups/test_journalio*.py). It never raises from
the worker thread and never touches the rest of ecelerity.
"""
from __future__ import annotations

import errno
import os
import threading
import time
from typing import Any

from . import compiled_twin

OK, FAILED_WRITE, FAILED_SYNC = 0, 1, 2
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


class SyncWorker:
    """One dedicated thread running ``write_and_sync`` jobs; see the module docstring."""

    def __init__(self) -> None:
        self._eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._cond = threading.Condition()
        self._job: tuple[int, list[memoryview], int, bool] | None = None
        self._held: list[memoryview] | None = None
        self._outcome: tuple[int, int, int] | None = None
        self._closing = False
        self.finished_at = 0.0
        self._pid = os.getpid()  # a forked child has no worker thread
        self._thread = threading.Thread(target=self._run, name="journal-io", daemon=True)
        self._thread.start()

    def fileno(self) -> int:
        return self._eventfd

    @property
    def busy(self) -> bool:
        """A job was submitted and its result not yet taken."""
        return self._held is not None

    def submit(self, fd: int, buffers: list[Any], offset: int, sync: bool) -> None:
        """Start one job; never blocks. RuntimeError if one is pending or closed."""
        if self._closing or self._pid != os.getpid():
            raise RuntimeError("journal-io worker: closed (or inherited across a fork)")
        if self._held is not None:
            raise RuntimeError("journal-io worker: a job is already pending")
        views = [memoryview(buffer) for buffer in buffers]
        with self._cond:
            self._held = views
            self._job = (fd, views, offset, bool(sync))
            self._cond.notify()

    def result(self) -> tuple[int, int, int] | None:
        """The finished job's (bytes_written, failed_stage, errno); None while it runs."""
        try:
            os.eventfd_read(self._eventfd)
        except BlockingIOError:
            return None
        with self._cond:
            outcome, self._outcome, self._held = self._outcome, None, None
        return outcome

    def close(self) -> None:
        """Let a running job finish, stop the thread, close the eventfd. Idempotent."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify()
        self._thread.join()
        self._held = None
        os.close(self._eventfd)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closing:
                    self._cond.wait()
                if self._job is None:
                    return
                job = self._job
            outcome = write_and_sync(*job)
            with self._cond:
                self._job, self._outcome = None, outcome
                self.finished_at = time.perf_counter()
            os.eventfd_write(self._eventfd, 1)


_py_SyncWorker = SyncWorker
_py_write_and_sync = write_and_sync
IMPLEMENTATION = "python"

_twin = compiled_twin("journalio")
if _twin is not None:
    SyncWorker = _twin.SyncWorker  # noqa: F811  (compiled twin)
    IMPLEMENTATION = "cython"
