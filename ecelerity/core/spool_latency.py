"""EOD -> 250 latency trace (issue 9): per-message timestamps, off unless asked for.

Set ``ECELERITY_EOD_TRACE=/path/prefix`` in the daemon's environment and each process
appends one line per accepted message to ``<prefix>.<pid>``: the perf_counter stamps of
the points a message passes between the final "." and its 250 (see POINTS). Who calls
it: smtp/session.py (dot seen, 250 sent), smtp/accept.py (phases done, reply built),
core/admit.py (stored), core/spool_commit.py (submitted, cycle picked up, cycle done = when the journal
I/O thread finished its fdatasync and the replies it sends, committer resumed, waiter
woken); a 250 sent by that thread is stamped "sent" at "cycle done";
benchmarks/eod_trace_report.py reads the files. It
must never change behaviour or raise: with the variable unset every call is a no-op.
"""
from __future__ import annotations

import os
import time
from typing import Any

from gevent import getcurrent

POINTS = ("dot", "phases", "submit", "cycle_start", "cycle_done", "resumed", "woken",
          "stored", "built", "sent")
_PREFIX = os.environ.get("ECELERITY_EOD_TRACE", "")
ENABLED = bool(_PREFIX)
_open: dict[Any, dict[str, float]] = {}
_file: Any = None


def start() -> None:
    """The final "." was just parsed in this (session) greenlet."""
    if ENABLED:
        _open[getcurrent()] = {"dot": time.perf_counter()}


def mark(point: str, stamp: float | None = None) -> None:
    """Stamp ``point`` for the message this greenlet is accepting (if traced)."""
    if ENABLED:
        stamps = _open.get(getcurrent())
        if stamps is not None:
            stamps[point] = time.perf_counter() if stamp is None else stamp


def current() -> dict[str, float] | None:
    """The stamps of this greenlet's message: the committer stamps them on its behalf."""
    return _open.get(getcurrent()) if ENABLED else None


def finish(sent_at: float | None = None) -> None:
    """The 250 (or any final reply) left (at ``sent_at`` if it was sent from another
    greenlet): write the line, forget the message."""
    global _file
    if not ENABLED:
        return
    stamps = _open.pop(getcurrent(), None)
    if stamps is None:
        return
    stamps["sent"] = time.perf_counter() if sent_at is None else sent_at
    try:
        if _file is None:
            _file = open(f"{_PREFIX}.{os.getpid()}", "a", buffering=1)  # noqa: SIM115
        _file.write(" ".join(f"{point}={stamps[point]:.6f}" for point in POINTS
                             if point in stamps) + "\n")
    except OSError:
        pass
