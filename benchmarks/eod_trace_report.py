"""Histograms of the daemon's EOD -> 250 trace (issue 9): where the time goes per interval.

    .venv/bin/python benchmarks/eod_trace_report.py PREFIX   # reads PREFIX.<pid> files

Reads the lines ecelerity/core/spool_latency.py writes when ECELERITY_EOD_TRACE=PREFIX
(benchmarks/relay_cprofile.py --trace sets it) and prints, for every interval between
consecutive points, p50/p90/p99/max over all messages and the mean over the slowest 1 %
(the p99 messages: which interval makes them slow). With the early 250 the intervals
after "resumed" are negative: the 250 left before the session greenlet woke. Who calls
it: relay_cprofile.py and engineers by hand. Reads files only; never touches a daemon.
"""
from __future__ import annotations

import glob
import sys

from ecelerity.core.spool_latency import POINTS


def load(prefix: str) -> list[dict[str, float]]:
    rows = []
    for path in glob.glob(f"{prefix}.*"):
        with open(path) as handle:
            for line in handle:
                row = dict(item.split("=") for item in line.split())
                rows.append({point: float(value) for point, value in row.items()})
    return [row for row in rows if all(point in row for point in POINTS)]


def _at(values: list[float], quantile: float) -> float:
    return values[min(len(values) - 1, int(quantile * len(values)))]


def report(prefix: str) -> str:
    rows = load(prefix)
    if not rows:
        return "no complete trace lines"
    total = sorted(rows, key=lambda row: row["sent"] - row["dot"])
    slow = total[int(0.99 * len(total)):]
    lines = [f"{len(rows)} messages traced; interval ms: p50 p90 p99 max | mean of slowest 1% "
             f"({len(slow)})"]
    # With the early 250 (Session.early_reply) "sent" comes right after "resumed":
    # cycle_done -> sent is the hub-side latency after the record became durable.
    spans = list(zip(POINTS, POINTS[1:], strict=False)) + [("cycle_done", "sent"),
                                                           ("dot", "sent")]
    for first, second in spans:
        values = sorted(1000 * (row[second] - row[first]) for row in rows)
        slow_mean = sum(1000 * (row[second] - row[first]) for row in slow) / len(slow)
        lines.append(f"  {first:>11} -> {second:<11} {_at(values, 0.5):7.2f} "
                     f"{_at(values, 0.9):7.2f} {_at(values, 0.99):7.2f} {values[-1]:7.2f} "
                     f"| {slow_mean:7.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(sys.argv[1]))
