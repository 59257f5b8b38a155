"""The compiled twin _c_journalio must behave exactly like the reference journalio.py.

Hypothesis drives the same random job sequence (buffer splits including empty ones,
offsets that overlap and leave holes, sync or not, jobs on a read-only fd and on a
pipe that fail at stage 1 or 2) through both workers, each on its own file, and
compares every outcome and the final file bytes. Skipped only under
ECELERITY_PURE_PYTHON=1; otherwise a missing compiled module is an error, never a skip.
"""
from __future__ import annotations

import os
import select

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity._speedups import PURE_PYTHON
from ecelerity._speedups.journalio import _py_SyncWorker

pytestmark = pytest.mark.skipif(
    PURE_PYTHON, reason="ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used"
)

if not PURE_PYTHON:
    from ecelerity._speedups._c_journalio import SyncWorker as _c_SyncWorker

jobs = st.lists(
    st.tuples(
        st.sampled_from(["file", "file", "file", "read-only", "pipe"]),
        st.lists(st.binary(max_size=40), max_size=12),
        st.integers(0, 300),
        st.booleans(),
    ),
    min_size=1, max_size=25,
)


def run(worker, fd: int, buffers: list[bytes], offset: int, sync: bool):
    worker.submit(fd, buffers, offset, sync)
    for _ in range(100):
        select.select([worker.fileno()], [], [], 5)
        outcome = worker.result()
        if outcome is not None:
            return outcome
    raise AssertionError("no result")


@settings(max_examples=60, deadline=None)
@given(sequence=jobs)
def test_twin_agrees_with_reference(tmp_path_factory, sequence):
    base = tmp_path_factory.mktemp("twins")
    pipe_read, pipe_write = os.pipe()
    workers, files, read_only = [], [], []
    try:
        for name in ("reference", "twin"):
            files.append(os.open(base / name, os.O_RDWR | os.O_CREAT, 0o600))
            read_only.append(os.open(base / name, os.O_RDONLY))
        workers = [_py_SyncWorker(), _c_SyncWorker()]
        for target, buffers, offset, sync in sequence:
            outcomes = []
            for index, worker in enumerate(workers):
                fd = {"file": files[index], "read-only": read_only[index], "pipe": pipe_read}[target]
                outcomes.append(run(worker, fd, list(buffers), offset, sync))
            assert outcomes[0] == outcomes[1], (target, buffers, offset, sync)
        assert (base / "reference").read_bytes() == (base / "twin").read_bytes()
    finally:
        for worker in workers:
            worker.close()
        for fd in (*files, *read_only, pipe_read, pipe_write):
            os.close(fd)
