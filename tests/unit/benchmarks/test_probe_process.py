"""The latency probe runs in its own process and hands back every record it took.

benchmarks/harness/probe_process.py: the child sends probe messages to a real SMTP sink
on loopback until the harness closes its stdin; what comes back must be exactly what
the sink accepted (every acknowledged marker arrived, nothing invented) with a positive
end-of-DATA -> 250 time for each.
"""
from __future__ import annotations

import re
import time

from benchmarks.harness.probe_process import ProbeProcess
from tests.helpers.sink import SmtpSink

MARKER = re.compile(rb"^X-Bench-Probe: (\S+)\r?$", re.M)


def test_probe_process_reports_what_the_sink_accepted():
    with SmtpSink() as sink:
        probe = ProbeProcess(sink.host, sink.port, sessions=2, size=1024)
        probe.start()
        deadline = time.monotonic() + 20
        while len(sink.messages) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        probe.stop()
        probe.stop()  # idempotent
        arrived = {MARKER.search(m.body).group(1).decode() for m in sink.messages}
    assert len(arrived) >= 10, probe.errors
    assert {r.marker for r in probe.acked} == arrived
    latencies = probe.eod_latencies()
    assert len(latencies) == len(arrived)
    assert all(0 < value < 20 for value in latencies)
    assert probe.errors == []
