"""The remote end of the relay scenarios: Postfix's ``smtp-sink`` dumping one file per message.

Who calls it: relay.py and fanout.py. The sink listens on 127.0.0.1:<free port>, writes
every transaction it accepts to ``<dir>/<HHMM>/<SS>.<random>`` (``-d``), and prints its
session counters (``-c``) to a file. ``count()`` is the number of dump files: the
messages the MTA actually delivered, the only count the results use. ``probe_arrivals()``
reads the probe messages' X-Bench-Sent header against each file's mtime (reception ->
remote 250). It must never be trusted across runs (one sink per run) and must always be
stopped (stop() is idempotent).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers.inject import wait_for_smtp
from tests.helpers.tools import find_tool

from .peers import free_port
from .probe import MARKER_HEADER, SENT_HEADER

_SENT = re.compile(rb"^" + SENT_HEADER.encode() + rb": ([0-9.]+)\r?$", re.M)
_MARKER = re.compile(rb"^" + MARKER_HEADER.encode() + rb": (\S+)\r?$", re.M)
_SESSIONS = re.compile(r"sess=(\d+) quit=(\d+) mesg=(\d+)")


class Sink:
    def __init__(self) -> None:
        binary = find_tool("smtp-sink")
        if binary is None:
            raise RuntimeError("smtp-sink not found: apt-get install postfix")
        self.binary = binary
        # under /tmp and world-writable: smtp-sink drops to 'nobody' after binding
        self.base = Path(tempfile.mkdtemp(prefix="ecsink-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        self.dump = self.base / "dump"
        self.dump.mkdir()
        os.chmod(self.dump, 0o777)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._out = None
        self._baseline_sessions = 0

    def start(self) -> Sink:
        self._out = open(self.base / "counters", "wb")
        args = [self.binary, "-c", "-m", "1000", "-d", f"{self.dump}/%H%M/%S."]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "nobody"]
        self.proc = subprocess.Popen(args + [f"127.0.0.1:{self.port}", "1024"], stdout=self._out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_for_smtp("127.0.0.1", self.port, timeout=10)
        # the readiness check was one session: wait until the sink has counted it
        deadline = time.monotonic() + 5
        while self._sessions_seen() < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        self._baseline_sessions = self._sessions_seen()
        return self

    def _sessions_seen(self) -> int:
        text = (self.base / "counters").read_text(errors="replace")
        found = _SESSIONS.findall(text)
        return int(found[-1][0]) if found else 0

    def count(self) -> int:
        return sum(len(files) for _root, _dirs, files in os.walk(self.dump))

    def files(self) -> list[Path]:
        return [Path(root) / name for root, _dirs, names in os.walk(self.dump) for name in names]

    def wait_for(self, expected: int, *, stall: float = 20.0, progress=None) -> tuple[int, float]:
        """Wait until ``expected`` messages arrived or nothing arrived for ``stall`` s.
        Returns (count, time.perf_counter() when the last counted message was seen)."""
        last, last_change = self.count(), time.perf_counter()
        while last < expected and time.perf_counter() - last_change < stall:
            time.sleep(0.1)
            now = self.count()
            if now != last:
                last, last_change = now, time.perf_counter()
            if progress:
                progress(f"sink {last}/{expected}")
        return last, last_change

    def probe_arrivals(self) -> list[float]:
        """Seconds from a probe message's X-Bench-Sent to the sink writing it, sorted."""
        out = []
        for path in self.files():
            with open(path, "rb") as f:
                head = f.read(4096)
            if MARKER_HEADER.encode() not in head:
                continue
            sent = _SENT.search(head)
            if sent:
                out.append(max(0.0, os.stat(path).st_mtime - float(sent.group(1))))
        return sorted(out)

    def recipients(self) -> int:
        total = 0
        for path in self.files():
            with open(path, "rb") as f:
                total += f.read(1 << 20).count(b"\nX-Rcpt-Args: ")
        return total

    def sessions(self) -> int:
        """Sessions the sink saw end, not counting its own readiness check (call after stop())."""
        return self._sessions_seen() - self._baseline_sessions

    def _settle(self, quiet: float = 0.3, timeout: float = 3.0) -> None:
        """Let the sink finish sessions its clients just closed (counters stop changing)."""
        deadline = time.monotonic() + timeout
        last, since = self._sessions_seen(), time.monotonic()
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.05)
            now = self._sessions_seen()
            if now != last:
                last, since = now, time.monotonic()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self._settle()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._out is not None:
            self._out.close()
            self._out = None
        time.sleep(0)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
