"""Shared switches for the reliability suite: the soak flag and the figures collector.

Every test here is bounded by default (CI runs it twice, each file well under a minute);
``ECELERITY_SOAK=1`` selects the long versions. Tests ask ``scale(ci, soak)`` for their
sizes and record what they measured with the ``figures`` fixture, which appends one JSON
line per call to the file named by ``ECELERITY_RELIABILITY_RESULTS`` (nothing is written
when it is unset). tools/reliability_report.py sets that variable, runs the suite and
turns the lines into RELIABILITY.md. This file must never decide a test's outcome.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

import pytest

SOAK = os.environ.get("ECELERITY_SOAK") == "1"
RESULTS_ENV = "ECELERITY_RELIABILITY_RESULTS"


def scale(ci: int, soak: int) -> int:
    """The bounded size in CI, the long one under ECELERITY_SOAK=1."""
    return soak if SOAK else ci


def record_figures(test: str, section: str, values: dict[str, Any]) -> None:
    """Append one JSON line {test, section, soak, time, values} to the results file."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    line = json.dumps({"test": test, "section": section, "soak": SOAK, "time": time.time(),
                       "values": values}, sort_keys=True, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one write with O_APPEND: lines of parallel workers never interleave
    finally:
        os.close(fd)


@pytest.fixture
def figures(request) -> Callable[..., None]:
    """``figures("crash", rounds=5, lost=0)`` records this test's figures for the report."""
    def record(section: str, **values: Any) -> None:
        record_figures(request.node.nodeid, section, values)
    return record

