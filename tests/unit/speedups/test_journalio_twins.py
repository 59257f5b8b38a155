"""The compiled twin _c_journalio must behave exactly like the reference journalio.py.

Hypothesis drives the same random record sequence (buffer splits including empty ones,
offsets that overlap and leave holes, sync or not, records on a read-only fd and on a
pipe that fail at stage 1 or 2, and the halt + cancel + resume after a failure) through
both workers, each on its own file, one record at a time so that batch boundaries do
not depend on thread timing, and compares every report and the final file bytes. Skipped only under
ECELERITY_PURE_PYTHON=1; otherwise a missing compiled module is an error, never a skip.
"""
from __future__ import annotations

import os
import select

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups import PURE_PYTHON
from ecelerity._speedups.journalio import CANCELLED, OK, _py_JournalWorker

pytestmark = pytest.mark.skipif(
    PURE_PYTHON, reason="ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used"
)

if not PURE_PYTHON:
    from ecelerity._speedups._c_journalio import JournalWorker as _c_JournalWorker

jobs = st.lists(
    st.tuples(
        st.sampled_from(["file", "file", "file", "read-only", "pipe"]),
        st.lists(st.binary(max_size=40), max_size=12),
        st.integers(0, 300),
        st.booleans(),
    ),
    min_size=1, max_size=25,
)


def run(worker, eventfd: int, fd: int, buffers: list[bytes], offset: int):
    """One record, its report(s): after a failure, one more (cancelled) record, then resume."""
    worker.enqueue(fd, offset, buffers)
    reports = collect(worker, eventfd)
    if reports[0][2] not in (OK, CANCELLED):
        worker.enqueue(fd, offset, buffers)  # halted: cancelled, nothing written
        reports += collect(worker, eventfd)
        worker.resume()
    return [(count, written, stage, error, sent)
            for count, written, stage, error, _, _, sent in reports]


def collect(worker, eventfd: int):
    for _ in range(100):
        select.select([eventfd], [], [], 5)
        done = worker.take_done()
        if done:
            return done
    raise AssertionError("no report")


@settings(max_examples=60, deadline=None)
@given(sequence=jobs)
def test_twin_agrees_with_reference(tmp_path_factory, sequence):
    base = tmp_path_factory.mktemp("twins")
    pipe_read, pipe_write = os.pipe()
    workers, files, read_only, eventfds = [], [], [], []
    try:
        for name in ("reference", "twin"):
            files.append(os.open(base / name, os.O_RDWR | os.O_CREAT, 0o600))
            read_only.append(os.open(base / name, os.O_RDONLY))
        for sync_all in (True, False):
            for factory in (_py_JournalWorker, _c_JournalWorker):
                eventfds.append(os.eventfd(0, os.EFD_NONBLOCK))
                workers.append(factory(eventfds[-1], sync_all))
        for target, buffers, offset, sync in sequence:
            outcomes = []
            for index in (0, 1):
                worker, eventfd = workers[index + (0 if sync else 2)], eventfds[index + (0 if sync else 2)]
                fd = {"file": files[index], "read-only": read_only[index], "pipe": pipe_read}[target]
                outcomes.append(run(worker, eventfd, fd, list(buffers), offset))
            assert outcomes[0] == outcomes[1], (target, buffers, offset, sync)
        assert (base / "reference").read_bytes() == (base / "twin").read_bytes()
    finally:
        for worker in workers:
            worker.close()
        for fd in (*files, *read_only, *eventfds, pipe_read, pipe_write):
            os.close(fd)
