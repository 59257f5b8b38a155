"""The latency probe in its own process, so the harness cannot disturb what it times.

Who calls it: benchmarks/harness/relay.py (relay, policy, slowdisk) through
``ProbeProcess``, which has the same interface as probe.Probe (start, stop, records,
acked, eod_latencies, errors). Why processes: the harness process also walks the sink's
dump directory every second (``Sink.count()``: 10,000+ files, several ms holding the GIL)
and samples /proc; with the probe's threads in that process, those pauses landed in the
probe's end-of-DATA -> 250 times, about once a second: the slowest 1 %, exactly the p99
the issue asks about. Why one process per session: two probe threads in one process
share a GIL, and on a box whose two cores run smtp-source, smtp-sink and the MTA flat
out, a thread preempted by the OS while holding it stalls the other one's read of its
250 for a scheduler slice (milliseconds) -- the probe's latency, not the MTA's. Each
child does nothing but one probe session.

    python -m benchmarks.harness.probe_process HOST PORT SESSIONS SIZE OUT.json [PREFIX]

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
    """probe.Probe's interface, with each session in a child process of its own."""

    def __init__(self, host: str, port: int, *, sessions: int = 2, size: int = 2048) -> None:
        self.host, self.port, self.sessions, self.size = host, port, sessions, size
        self.records: list[ProbeRecord] = []
        self.errors: list[str] = []
        self._outs = [Path(tempfile.mkstemp(prefix="ecprobe-", suffix=".json")[1])
                      for _ in range(sessions)]
        self._procs: list[subprocess.Popen] = []

    def start(self) -> None:
        self._procs = [subprocess.Popen(
            [sys.executable, "-m", "benchmarks.harness.probe_process", self.host,
             str(self.port), "1", str(self.size), str(out), f"probe{index}-"],
            cwd=str(REPO), stdin=subprocess.PIPE) for index, out in enumerate(self._outs)]

    def stop(self) -> None:
        procs, self._procs = self._procs, []
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in procs:
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.errors.append("probe process did not stop within 90 s")
        for out in self._outs if procs else []:
            try:
                data = json.loads(out.read_text() or "{}")
            except (OSError, ValueError) as exc:
                self.errors.append(f"probe results unreadable: {exc}")
                data = {}
            finally:
                out.unlink(missing_ok=True)
            self.records += [ProbeRecord(**record) for record in data.get("records", [])]
            self.errors.extend(data.get("errors", []))

    @property
    def acked(self) -> list[ProbeRecord]:
        return [r for r in self.records if r.acked]

    def eod_latencies(self) -> list[float]:
        return sorted(r.eod_latency for r in self.acked if r.eod_latency is not None)


def main(argv: list[str]) -> int:
    host, port, sessions, size, out, *prefix = argv
    probe = Probe(host, int(port), sessions=int(sessions), size=int(size),
                  marker_prefix=prefix[0] if prefix else "probe")
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
