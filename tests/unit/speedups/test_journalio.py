"""journalio's SyncWorker and write_and_sync on real files, pipes and fds, both twins.

Every test runs on the reference (threading) worker and, unless ECELERITY_PURE_PYTHON=1,
on the compiled (GIL-free pthread) twin; a missing compiled module is an error there,
never a skip. The worker's completion is awaited the way the spool does it: the
eventfd becoming readable (select, short timeout), then ``result()``.
"""
from __future__ import annotations

import errno
import os
import select
import subprocess
import sys
import time

import pytest

from ecelerity._speedups import PURE_PYTHON, journalio

WORKERS = [pytest.param(journalio._py_SyncWorker, id="python")]
if not PURE_PYTHON:
    from ecelerity._speedups._c_journalio import SyncWorker as _c_SyncWorker

    WORKERS.append(pytest.param(_c_SyncWorker, id="cython"))


@pytest.fixture(params=WORKERS)
def worker(request):
    created = request.param()
    yield created
    created.close()


def finish(worker, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([worker.fileno()], [], [], deadline - time.monotonic())
        if readable:
            outcome = worker.result()
            if outcome is not None:
                return outcome
    raise AssertionError("the worker never signalled its eventfd")


@pytest.fixture
def data_file(tmp_path):
    fd = os.open(tmp_path / "segment", os.O_RDWR | os.O_CREAT, 0o600)
    yield fd
    os.close(fd)


def test_writes_land_at_the_offset_and_sync(worker, data_file):
    buffers = [b"head ", b"", bytearray(b"middle "), memoryview(b"tail")]
    worker.submit(data_file, buffers, 7, True)
    assert finish(worker) == (16, journalio.OK, 0)
    assert os.pread(data_file, 64, 0) == bytes(7) + b"head middle tail"
    assert worker.finished_at <= time.perf_counter()  # same clock as perf_counter
    assert time.perf_counter() - worker.finished_at < 5


def test_result_is_none_while_nothing_finished_and_eventfd_is_consumed(worker, data_file):
    assert worker.result() is None and not worker.busy
    worker.submit(data_file, [b"x" * 100], 0, False)
    assert worker.busy
    assert finish(worker) == (100, journalio.OK, 0)
    assert not worker.busy and worker.result() is None
    assert select.select([worker.fileno()], [], [], 0)[0] == []


def test_one_job_in_flight(worker, data_file):
    worker.submit(data_file, [b"a"], 0, True)
    with pytest.raises(RuntimeError, match="already pending"):
        worker.submit(data_file, [b"b"], 1, True)
    assert finish(worker) == (1, journalio.OK, 0)


def test_many_jobs_in_a_row_append_in_order(worker, data_file):
    offset = 0
    expected = b""
    for number in range(300):
        record = b"record %d\n" % number
        worker.submit(data_file, [record[:3], record[3:]], offset, number % 10 == 0)
        assert finish(worker) == (len(record), journalio.OK, 0)
        offset += len(record)
        expected += record
    assert os.pread(data_file, offset + 10, 0) == expected


def test_more_buffers_than_iov_max_are_written_in_batches(worker, data_file):
    buffers = [bytes([65 + number % 26]) * (1 + number % 3) for number in range(3 * journalio.IOV_MAX + 7)]
    worker.submit(data_file, buffers, 3, True)
    total = sum(map(len, buffers))
    assert finish(worker) == (total, journalio.OK, 0)
    assert os.pread(data_file, total + 10, 3) == b"".join(buffers)


def test_pwritev_to_a_closed_fd_fails_at_stage_1(worker, tmp_path):
    fd = os.open(tmp_path / "gone", os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    worker.submit(fd, [b"lost"], 0, True)
    assert finish(worker) == (0, journalio.FAILED_WRITE, errno.EBADF)


def test_pwritev_to_a_read_only_fd_fails_at_stage_1(worker, tmp_path):
    (tmp_path / "ro").write_bytes(b"old")
    fd = os.open(tmp_path / "ro", os.O_RDONLY)
    try:
        worker.submit(fd, [b"new"], 0, True)
        assert finish(worker) == (0, journalio.FAILED_WRITE, errno.EBADF)
    finally:
        os.close(fd)
    assert (tmp_path / "ro").read_bytes() == b"old"


def test_fdatasync_failure_is_stage_2(worker):
    read_end, write_end = os.pipe()  # fdatasync on a pipe: EINVAL
    try:
        worker.submit(read_end, [], 0, True)
        assert finish(worker) == (0, journalio.FAILED_SYNC, errno.EINVAL)
        worker.submit(read_end, [b""], 0, False)  # nothing to write, no sync: fine
        assert finish(worker) == (0, journalio.OK, 0)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_the_worker_keeps_submitted_buffers_alive(worker, data_file):
    worker.submit(data_file, [bytes(range(256)) * 40 for _ in range(4)], 0, True)  # no other refs
    assert finish(worker) == (4 * 10240, journalio.OK, 0)
    assert os.pread(data_file, 10240, 30720) == bytes(range(256)) * 40


def test_close_while_idle_and_twice_and_submit_after_close(worker, data_file):
    eventfd = worker.fileno()
    worker.close()
    worker.close()
    with pytest.raises(OSError):
        os.fstat(eventfd)
    with pytest.raises(RuntimeError, match="closed"):
        worker.submit(data_file, [b"x"], 0, True)


def test_close_waits_for_the_job_in_flight(worker, data_file):
    worker.submit(data_file, [b"z" * (1 << 20)], 0, True)
    worker.close()
    assert os.pread(data_file, 1 << 20, 0) == b"z" * (1 << 20)


PARTIAL = """
import os, resource, select, sys
sys.path.insert(0, {root!r})
from ecelerity._speedups import journalio
if {twin!r} == "cython":
    from ecelerity._speedups._c_journalio import SyncWorker
else:
    SyncWorker = journalio._py_SyncWorker
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))  # SIGXFSZ is ignored
fd = os.open({path!r}, os.O_RDWR | os.O_CREAT, 0o600)
worker = SyncWorker()
worker.submit(fd, [b"a" * 600, b"b" * 600], 100, True)
select.select([worker.fileno()], [], [], 5)
print(*worker.result(), os.pread(fd, 2000, 0) == bytes(100) + b"a" * 600 + b"b" * 300)
worker.close()
"""


@pytest.mark.parametrize("twin", ["python", "cython"])
def test_a_partial_write_is_continued_then_the_error_reported(twin, tmp_path):
    """RLIMIT_FSIZE makes pwritev short (900 of 1200 bytes), the retry then fails EFBIG:
    the worker must resume after the short write and report what it did write."""
    if twin == "cython" and PURE_PYTHON:
        pytest.skip("ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used")
    root = os.path.dirname(os.path.dirname(os.path.abspath(journalio.__file__)))
    code = PARTIAL.format(root=os.path.dirname(root), twin=twin, path=str(tmp_path / "f"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["900", str(journalio.FAILED_WRITE), str(errno.EFBIG), "True"]


def test_write_and_sync_is_the_job_callable_from_any_thread(data_file):
    assert journalio.write_and_sync(data_file, [b"ab", b"cd"], 2, True) == (4, journalio.OK, 0)
    assert os.pread(data_file, 10, 0) == b"\0\0abcd"
    assert journalio.write_and_sync(-1, [b"x"], 0, True) == (0, journalio.FAILED_WRITE, errno.EBADF)


FORKED = """
import os, sys
sys.path.insert(0, {root!r})
from ecelerity._speedups import journalio
if {twin!r} == "cython":
    from ecelerity._speedups._c_journalio import SyncWorker
else:
    SyncWorker = journalio._py_SyncWorker
worker = SyncWorker()
pid = os.fork()
if pid == 0:
    try:
        worker.submit(1, [b"x"], 0, False)
        os._exit(3)
    except RuntimeError:
        worker.close()  # must not join a thread that is not in this process
        del worker
        os._exit(0)
_, status = os.waitpid(pid, 0)
worker.close()
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize("twin", ["python", "cython"])
def test_a_worker_inherited_across_a_fork_refuses_work_and_closes(twin):
    if twin == "cython" and PURE_PYTHON:
        pytest.skip("ECELERITY_PURE_PYTHON=1: the compiled twin is deliberately not used")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(journalio.__file__))))
    done = subprocess.run([sys.executable, "-c", FORKED.format(root=root, twin=twin)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]
