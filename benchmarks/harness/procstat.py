"""CPU time and peak RSS of a process tree, read from /proc (no psutil).

Who calls it: the benchmark peers (peers.py) before and after a load. It must never
signal or otherwise touch the processes it reads; a process that vanished mid-read is
simply skipped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    pid: int
    name: str
    cpu: float          # utime + stime, seconds
    child_cpu: float    # cutime + cstime of reaped children, seconds
    hwm_kb: int         # VmHWM: peak resident set size


def _stat_fields(pid: int) -> tuple[str, list[str]] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    return name, raw[raw.rindex(")") + 2:].split()


def sample(pid: int) -> ProcSample | None:
    """One process's CPU and VmHWM, or None if it is gone."""
    parsed = _stat_fields(pid)
    if parsed is None:
        return None
    name, fields = parsed
    # fields[0] is state (field 3); utime is field 14 -> index 11
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                    break
    except OSError:
        return None
    return ProcSample(pid, name, (utime + stime) / CLOCK_TICKS,
                      (cutime + cstime) / CLOCK_TICKS, hwm)


def children(pid: int) -> list[int]:
    """Every live descendant of ``pid``."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parsed = _stat_fields(int(entry))
            if parsed is not None:
                parent_of[int(entry)] = int(parsed[1][1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parent_of.items() if parent == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


def tree(pid: int) -> list[ProcSample]:
    """The process and its live descendants."""
    samples = [sample(p) for p in [pid, *children(pid)]]
    return [s for s in samples if s is not None]


def cpu_by_name(samples: list[ProcSample], root_pid: int) -> dict[str, float]:
    """CPU seconds per process name; the root also gets its reaped children's time."""
    totals: dict[str, float] = {}
    for s in samples:
        cpu = s.cpu + (s.child_cpu if s.pid == root_pid else 0.0)
        totals[s.name] = totals.get(s.name, 0.0) + cpu
    return totals
