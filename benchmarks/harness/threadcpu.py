"""Per-thread CPU of a process in nanoseconds, from /proc/<pid>/task/<tid>/schedstat.

Who calls it: relay.py (the hub thread's CPU per run, beside the whole process's) and
policy_measure.py. ``schedstat``'s first field is the task's time on a CPU in ns (the
scheduler's own sum, not 10 ms ticks like /proc/<pid>/stat), so short runs still give
exact figures. The daemon's hub (gevent's loop, every session and every policy hook)
is the main thread, whose tid is the pid; the others are gevent threadpool threads
(the journal's fdatasync cycle, DNS). It must never touch the process it reads; a
thread that ended between the listing and the read is skipped.
"""
from __future__ import annotations

import os


def _ns(pid: int, tid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def threads_ns(pid: int) -> dict[int, int]:
    """{tid: CPU ns so far} for every live thread of pid (empty when it is gone)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return {}
    out = {}
    for tid in tids:
        ns = _ns(pid, tid)
        if ns is not None:
            out[tid] = ns
    return out


def split_ns(pid: int) -> tuple[int, int]:
    """(hub = main thread CPU ns, every other live thread's CPU ns summed)."""
    per = threads_ns(pid)
    hub = per.pop(pid, 0)
    return hub, sum(per.values())
