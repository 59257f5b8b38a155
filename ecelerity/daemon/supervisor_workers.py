"""The supervisor's worker processes: start one, wait for its report, restart, stop.

Who calls it: daemon/supervisor.py's Supervisor inherits WorkerProcesses and calls
``spawn`` for every slot at start, ``_watch`` in one greenlet per slot, and
``stop_workers`` / ``signal_workers`` at shutdown, reload and log reopening. A worker
is a fork+exec of ``ecelerity --worker I/N`` (a fresh interpreter: no gevent hub,
threadpool or open spool inherited across a fork) that reports its start-up through
a pipe (``<code> <message>``). A worker that dies is started again with the same index
after a backoff (0.5 s doubling up to 30 s while it keeps dying within 10 s of its
start); five restarts within 60 s are reported in the paniclog as a crash loop.
Never touches the spool or SMTP; never blocks the hub (pipes are read non-blocking).
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent
import gevent.os
import gevent.subprocess

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
BACKOFF_FIRST, BACKOFF_MAX, STABLE_AFTER = 0.5, 30.0, 10.0
CRASH_LOOP_RESTARTS, CRASH_LOOP_WINDOW = 5, 60.0
MAX_UNIX_PATH = 100


@dataclass
class WorkerSlot:
    """One worker index: its current process, restart backoff and state."""

    index: int
    proc: Any = None
    started_at: float = 0.0
    backoff: float = BACKOFF_FIRST
    restarts: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=CRASH_LOOP_RESTARTS))
    state: str = "starting"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


def choose_run_dir(pidfile: str) -> tuple[str, bool]:
    """Where worker sockets and leases live; (path, made under /tmp and to be removed)."""
    preferred = os.path.join(os.path.dirname(os.path.abspath(pidfile)), "workers")
    if len(os.path.join(preferred, "w99.sock")) <= MAX_UNIX_PATH:
        os.makedirs(preferred, mode=0o700, exist_ok=True)
        return preferred, False
    return tempfile.mkdtemp(prefix="ecelerity-w-", dir="/tmp"), True


class WorkerProcesses:
    """The worker half of Supervisor; the attributes it uses are set by the supervisor."""

    config_path: str
    count: int
    run_dir: str
    slots: list[WorkerSlot]
    _stopping: bool
    log: Callable[[str, str], None]

    def signal_workers(self, signum: int) -> None:
        for slot in self.slots:
            if slot.proc is not None and slot.proc.poll() is None:
                try:
                    os.kill(slot.proc.pid, signum)
                except ProcessLookupError:
                    pass

    def _command(self, index: int, report_fd: int) -> list[str]:
        return [sys.executable, "-m", "ecelerity.daemon.main", "-c", self.config_path,
                "--foreground", "--worker", f"{index}/{self.count}", "--worker-dir", self.run_dir,
                "--report-fd", str(report_fd)]

    def spawn(self, slot: WorkerSlot) -> tuple[int, str]:
        """Start the worker of ``slot`` and wait for its start-up report: (code, message)."""
        read_fd, write_fd = os.pipe()
        try:
            slot.proc = gevent.subprocess.Popen(self._command(slot.index, write_fd),
                                                pass_fds=(write_fd,), stdin=gevent.subprocess.DEVNULL)
        finally:
            os.close(write_fd)
        slot.started_at = time.monotonic()
        slot.state = "starting"
        chunks: list[bytes] = []
        try:
            gevent.os.make_nonblocking(read_fd)
            with gevent.Timeout(START_TIMEOUT):
                while chunk := gevent.os.nb_read(read_fd, 4096):
                    chunks.append(chunk)
        except gevent.Timeout:
            chunks = [b"1 no start-up report within %d s" % START_TIMEOUT]
            slot.proc.kill()
        finally:
            os.close(read_fd)
        code_text, _, message = b"".join(chunks).decode("utf-8", "replace").strip().partition(" ")
        if not code_text.isdigit():
            return 1, f"worker {slot.index} exited during start-up (see the paniclog)"
        if code_text == "0":
            slot.state = "running"
        return int(code_text), message

    def _watch(self, slot: WorkerSlot) -> None:
        """Wait for the worker to exit; start it again unless the daemon is stopping."""
        while True:
            status = slot.proc.wait()
            if self._stopping:
                slot.state = "stopped"
                return
            lived = time.monotonic() - slot.started_at
            slot.state = "restarting"
            how = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
            slot.backoff = BACKOFF_FIRST if lived >= STABLE_AFTER else min(BACKOFF_MAX, slot.backoff * 2)
            now = time.monotonic()
            slot.recent.append(now)
            if len(slot.recent) == CRASH_LOOP_RESTARTS and now - slot.recent[0] <= CRASH_LOOP_WINDOW:
                self.log("ecelerity", f"worker {slot.index} is in a crash loop: {CRASH_LOOP_RESTARTS} "
                                      f"restarts in {now - slot.recent[0]:.0f}s")
            self.log("ecelerity", f"worker {slot.index} (pid {slot.pid}) {how} after {lived:.1f}s; "
                                  f"restarting in {slot.backoff:.1f}s")
            gevent.sleep(slot.backoff)
            if self._stopping:
                return
            slot.restarts += 1
            code, message = self.spawn(slot)
            if code != 0:
                self.log("ecelerity", f"worker {slot.index} restart failed: {message}")
            else:
                self.log("ecelerity", f"worker {slot.index} restarted (pid {slot.pid})")

    def stop_workers(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stopping = True
        self.signal_workers(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for slot in self.slots:
            if slot.proc is None:
                continue
            try:
                slot.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except gevent.subprocess.TimeoutExpired:
                self.log("ecelerity", f"worker {slot.index} ignored SIGTERM; killing it")
                slot.proc.kill()
                slot.proc.wait()
            slot.state = "stopped"
