"""Buffered log file writer: the hub appends lines to memory, a timer writes them in a thread.

Every log of log/ (mainlog, rejectlog, acctlog, bouncelog, JSON, custom logs) writes
through one LogWriter per file. ``write_line`` only appends to a list (no syscall, no
lock) and never raises. A flusher greenlet (``start``) wakes every ``flush_interval``
seconds, or early when the buffer passes ``wake_at_chars``, swaps the buffer out and
writes it with ``os.write`` in gevent's threadpool, so a slow disk never stalls the hub.
``close`` (shutdown) flushes what is left.

Rotation: the operator (or ec_rotate) renames the file, then asks the daemon to reopen
(SIGUSR1 / ``reopen logs``). ``reopen`` takes the same lock as a flush, writes every line
buffered so far to the old file, then opens the path again: each line lands in exactly
one of the two files, never in both, never in neither.

Failures: an open or write error (a full disk, EIO, a missing directory) keeps the
unwritten bytes in memory and retries them at the next flush, in order; beyond
``max_pending_bytes`` the oldest bytes are dropped and counted. The first error of an
episode is reported once through ``report(module, text)`` (the paniclog) and the
recovery is reported too; ``stats`` counts errors, written and dropped lines for the
console and metrics, and ``on_error`` (when set: log/service.py points it at the
daemon's counters, ecelerity/stats.py ``log_write_errors`` / ``log_disk_full``) is
called with every failed open or write. Mail flow never waits on any of this.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import gevent
import gevent.event
import gevent.lock

DEFAULT_MODE = 0o644
FLUSH_INTERVAL = 0.1  # seconds between timed flushes
WAKE_AT_CHARS = 256 * 1024  # wake the flusher early when this much text is waiting
MAX_PENDING_BYTES = 32 * 1024 * 1024  # unwritable bytes kept for retry before dropping


@dataclass
class WriterStats:
    """Counters of one writer (the console and metrics read them)."""

    lines_written: int = 0
    bytes_written: int = 0
    flushes: int = 0
    write_errors: int = 0
    lines_dropped: int = 0
    reopens: int = 0


def _write_all(fd: int, data: bytes) -> tuple[int, OSError | None]:
    """Write ``data`` fully; returns (bytes written, the error that stopped it or None)."""
    view = memoryview(data)
    written = 0
    while written < len(data):
        try:
            count = os.write(fd, view[written:])
        except InterruptedError:
            continue
        except OSError as exc:
            return written, exc
        if count <= 0:
            return written, OSError(0, "write returned 0")
        written += count
    return written, None


class LogWriter:
    """One log file; see the module docstring for buffering, rotation and failures."""

    def __init__(self, path: str, *, mode: int = DEFAULT_MODE, name: str | None = None,
                 report: Callable[[str, str], None] | None = None,
                 flush_interval: float = FLUSH_INTERVAL, wake_at_chars: int = WAKE_AT_CHARS,
                 max_pending_bytes: int = MAX_PENDING_BYTES, use_threadpool: bool = True):
        self.path = path
        self.mode = mode
        self.name = name or os.path.basename(path)
        self.flush_interval = flush_interval
        self.wake_at_chars = wake_at_chars
        self.max_pending_bytes = max_pending_bytes
        self.stats = WriterStats()
        self.on_error: Callable[[OSError], None] | None = None
        self._report = report
        self._use_threadpool = use_threadpool
        self._lines: list[str] = []
        self._pending_chars = 0
        self._carry = b""  # bytes a failed write left behind; written first next time
        self._fd: int | None = None
        self._lock = gevent.lock.Semaphore()
        self._wake = gevent.event.Event()
        self._flusher: gevent.Greenlet | None = None
        self._failing = False
        self._closed = False
        self._stopping = False

    # -- the hot path ------------------------------------------------------------------
    def write_line(self, line: str) -> None:
        """Queue one line (without its newline). Never blocks, never raises."""
        self._lines.append(line)
        self._pending_chars += len(line) + 1
        if self._pending_chars >= self.wake_at_chars:
            if self._flusher is not None:
                self._wake.set()
            elif self._closed:
                self.flush()

    @property
    def pending_lines(self) -> int:
        return len(self._lines)

    # -- flushing ----------------------------------------------------------------------
    def flush(self) -> None:
        """Write everything queued so far (waits for the write; the hub keeps running)."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._lines and not self._carry:
            return
        lines, self._lines = self._lines, []
        self._pending_chars = 0
        data = self._carry + ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace") \
            if lines else self._carry
        self._carry = b""
        if self._fd is None:
            self._open_locked()
        if self._fd is None:
            self._keep(data)
            return
        written, error = self._run(_write_all, self._fd, data)
        self.stats.flushes += 1
        self.stats.bytes_written += written
        self.stats.lines_written += data.count(b"\n", 0, written)
        if error is not None:
            self.stats.write_errors += 1
            self._count(error)
            self._keep(data[written:])
            self._trouble(f"cannot write {self.name} '{self.path}': "
                          f"{error.strerror or error}; lines are kept in memory and retried")
        elif self._failing:
            self._failing = False
            self._say(f"{self.name} '{self.path}' is writable again")

    def _keep(self, data: bytes) -> None:
        """Hold unwritten bytes for the next flush, dropping the oldest beyond the cap."""
        if len(data) > self.max_pending_bytes:
            cut = data.find(b"\n", len(data) - self.max_pending_bytes - 1)
            cut = len(data) if cut < 0 else cut + 1
            self.stats.lines_dropped += data.count(b"\n", 0, cut)
            data = data[cut:]
        self._carry = data

    def _run(self, func, *args):
        if self._use_threadpool:
            return gevent.get_hub().threadpool.apply(func, args)
        return func(*args)

    # -- files -------------------------------------------------------------------------
    def _open_locked(self) -> None:
        try:
            parent = os.path.dirname(self.path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                               self.mode)
        except OSError as exc:
            self.stats.write_errors += 1
            self._count(exc)
            self._trouble(f"cannot open {self.name} '{self.path}': {exc.strerror or exc}")

    def _close_locked(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def reopen(self) -> None:
        """Write what is buffered to the current file, then open the path afresh."""
        with self._lock:
            self._flush_locked()
            self._close_locked()
            self._open_locked()
            self.stats.reopens += 1

    # -- the timer ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the flusher greenlet (idempotent)."""
        if self._flusher is not None:
            return
        self._closed = False
        self._flusher = gevent.spawn(self._flush_loop)

    def _flush_loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - the flusher must outlive any surprise
                self._trouble(f"{self.name} flusher error: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Stop the timer, write everything left and close the file (shutdown).

        A line written after close is written at once (synchronously), not lost."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            # let a write in flight finish (killing it could reorder lines), then stop
            self._stopping = True
            self._wake.set()
            flusher.join()
            self._stopping = False
        with self._lock:
            self._flush_locked()
            self._close_locked()
        self._closed = True
        self.wake_at_chars = 1

    # -- reporting ---------------------------------------------------------------------
    def _count(self, error: OSError) -> None:
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:  # noqa: BLE001 - counting must never break logging
                pass

    def _trouble(self, text: str) -> None:
        if self._failing:
            return
        self._failing = True
        self._say(text)

    def _say(self, text: str) -> None:
        if self._report is None:
            return
        try:
            self._report("log", text)
        except Exception:  # noqa: BLE001 - reporting must never break logging
            pass
