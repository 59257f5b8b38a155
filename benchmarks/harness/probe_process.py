"""The latency probe in its own process, so the harness cannot disturb what it times.

Who calls it: benchmarks/harness/relay.py (relay, policy, slowdisk) through
``ProbeProcess``, which has the same interface as probe.Probe (start, stop, records,
acked, eod_latencies, errors). Why a process: the harness process also walks the sink's
dump directory every second (``Sink.count()``: 10,000+ files, several ms holding the GIL)
and samples /proc; with the probe's threads in that process, those pauses landed in the
probe's end-of-DATA -> 250 times, about once a second: the slowest 1 %, exactly the p99
the issue asks about. The child does nothing but the probe sessions.

    python -m benchmarks.harness.probe_process HOST PORT SESSIONS SIZE OUT.json

runs until its standard input closes, then writes every record to OUT.json. It must
never count anything as delivered (the sink's count is the result) and never outlive
the harness (stdin closing, or the harness dying, ends it).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .probe import Probe, ProbeRecord

REPO = Path(__file__).resolve().parents[2]


class ProbeProcess:
    """probe.Probe's interface, with the sessions running in a child process."""

    def __init__(self, host: str, port: int, *, sessions: int = 2, size: int = 2048) -> None:
        self.host, self.port, self.sessions, self.size = host, port, sessions, size
        self.records: list[ProbeRecord] = []
        self.errors: list[str] = []
        self._out = Path(tempfile.mkstemp(prefix="ecprobe-", suffix=".json")[1])
        self._proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.harness.probe_process", self.host,
             str(self.port), str(self.sessions), str(self.size), str(self._out)],
            cwd=str(REPO), stdin=subprocess.PIPE)

    def stop(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            self.errors.append("probe process did not stop within 90 s")
        try:
            data = json.loads(self._out.read_text() or "{}")
        except (OSError, ValueError) as exc:
            self.errors.append(f"probe results unreadable: {exc}")
            data = {}
        finally:
            self._out.unlink(missing_ok=True)
        self.records = [ProbeRecord(**record) for record in data.get("records", [])]
        self.errors.extend(data.get("errors", []))

    @property
    def acked(self) -> list[ProbeRecord]:
        return [r for r in self.records if r.acked]

    def eod_latencies(self) -> list[float]:
        return sorted(r.eod_latency for r in self.acked if r.eod_latency is not None)


def main(argv: list[str]) -> int:
    host, port, sessions, size, out = argv
    probe = Probe(host, int(port), sessions=int(sessions), size=int(size))
    probe.start()
    sys.stdin.buffer.read()  # returns when the harness closes our stdin (or dies)
    probe.stop()
    Path(out).write_text(json.dumps({
        "records": [vars(record) for record in probe.records],
        "errors": probe.errors,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
