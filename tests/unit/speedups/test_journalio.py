"""journalio's JournalWorker and write_and_sync on real files, pipes, sockets and fds, both twins.

Every test runs on the reference (threading) worker and, unless ECELERITY_PURE_PYTHON=1,
on the compiled (GIL-free pthread) twin; a missing compiled module is an error there,
never a skip. Reports are collected the way the spool does it: the eventfd becoming
readable (select, short timeout), then ``take_done()``.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import subprocess
import sys
import time

import pytest

from ecelerity._speedups import PURE_PYTHON, journalio

WORKERS = [pytest.param(journalio._py_JournalWorker, id="python")]
if not PURE_PYTHON:
    from ecelerity._speedups._c_journalio import JournalWorker as _c_JournalWorker

    WORKERS.append(pytest.param(_c_JournalWorker, id="cython"))


class Harness:
    """A worker on its own eventfd, and the batches it reported."""

    def __init__(self, factory, sync=True, max_batch_bytes=32 << 20):
        self.eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.worker = factory(self.eventfd, sync, max_batch_bytes)

    def reports(self, records: int, timeout: float = 5.0):
        """Batches until ``records`` records were reported."""
        batches = []
        deadline = time.monotonic() + timeout
        while sum(batch[0] for batch in batches) < records:
            left = deadline - time.monotonic()
            assert left > 0, f"only {batches} reported"
            if select.select([self.eventfd], [], [], left)[0]:
                batches += self.worker.take_done()
        return batches

    def close(self):
        self.worker.close()
        os.close(self.eventfd)


@pytest.fixture(params=WORKERS)
def factory(request):
    return request.param


@pytest.fixture
def harness(factory):
    created = Harness(factory)
    yield created
    created.close()


@pytest.fixture
def data_file(tmp_path):
    fd = os.open(tmp_path / "segment", os.O_RDWR | os.O_CREAT, 0o600)
    yield fd
    os.close(fd)


def test_a_record_lands_at_its_offset_and_is_reported_with_times(harness, data_file):
    before = time.perf_counter()
    harness.worker.enqueue(data_file, 7, [b"head ", b"", bytearray(b"middle "), memoryview(b"tail")])
    [(count, written, stage, error, started, finished, sent)] = harness.reports(1)
    assert (count, written, stage, error, sent) == (1, 16, journalio.OK, 0, (-1,))
    assert before <= started <= finished <= time.perf_counter()  # perf_counter's clock
    assert os.pread(data_file, 64, 0) == bytes(7) + b"head middle tail"
    assert harness.worker.take_done() == []
    assert select.select([harness.eventfd], [], [], 0)[0] == []  # take_done cleared it


def test_contiguous_records_queued_together_share_one_batch(factory, data_file):
    harness = Harness(factory)
    try:
        harness.worker.enqueue(data_file, 0, [b"warm"])
        harness.reports(1)
        offset, expected = 4, b"warm"
        for number in range(300):  # queued far faster than one fdatasync
            record = b"record %d\n" % number
            harness.worker.enqueue(data_file, offset, [record[:3], record[3:]])
            offset += len(record)
            expected += record
        batches = harness.reports(300)
        assert [batch[2] for batch in batches] == [journalio.OK] * len(batches)
        assert sum(batch[1] for batch in batches) == offset - 4
        assert len(batches) < 300  # chained batches, not one fdatasync per record
        assert os.pread(data_file, offset + 10, 0) == expected
    finally:
        harness.close()


def test_a_gap_or_another_fd_starts_a_new_batch(harness, data_file, tmp_path):
    other = os.open(tmp_path / "other", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        harness.worker.enqueue(data_file, 0, [b"aa"])
        harness.worker.enqueue(data_file, 10, [b"bb"])  # a hole: never one pwritev
        harness.worker.enqueue(other, 12, [b"cc"])
        batches = harness.reports(3)
        assert all(batch[0] == 1 and batch[2] == journalio.OK for batch in batches)
        assert os.pread(data_file, 20, 0) == b"aa" + bytes(8) + b"bb"
        assert os.pread(other, 20, 0) == bytes(12) + b"cc"
    finally:
        os.close(other)


def test_max_batch_bytes_splits_a_run(factory, data_file):
    harness = Harness(factory, max_batch_bytes=10)
    try:
        for number in range(6):
            harness.worker.enqueue(data_file, 4 * number, [b"%04d" % number])
        batches = harness.reports(6)
        assert all(batch[0] <= 2 for batch in batches)  # 2 records of 4 bytes <= 10
        assert os.pread(data_file, 30, 0) == b"".join(b"%04d" % n for n in range(6))
    finally:
        harness.close()


def test_more_buffers_than_iov_max_are_written_in_pieces(harness, data_file):
    buffers = [bytes([65 + number % 26]) * (1 + number % 3) for number in range(3 * journalio.IOV_MAX + 7)]
    harness.worker.enqueue(data_file, 3, buffers)
    total = sum(map(len, buffers))
    assert [batch[:4] for batch in harness.reports(1)] == [(1, total, journalio.OK, 0)]
    assert os.pread(data_file, total + 10, 3) == b"".join(buffers)


def test_replies_leave_after_the_sync_and_the_worker_closes_its_dup(harness, data_file):
    ours, theirs = socket.socketpair()
    try:
        dups = [os.dup(ours.fileno()) for _ in range(3)]
        for number, dup in enumerate(dups):
            harness.worker.enqueue(data_file, number, [b"%d" % number], dup, b"250 %d\r\n" % number)
        harness.worker.enqueue(data_file, 3, [b"3"])  # no reply
        batches = harness.reports(4)
        assert [sent for batch in batches for sent in batch[6]] == [7, 7, 7, -1]
        theirs.settimeout(5)
        got = b""
        while len(got) < 21:
            got += theirs.recv(100)
        assert got == b"250 0\r\n250 1\r\n250 2\r\n"
        for dup in dups:
            with pytest.raises(OSError):
                os.fstat(dup)  # closed by the worker
    finally:
        ours.close()
        theirs.close()


def test_a_reply_the_kernel_cannot_take_is_reported_unsent(harness, data_file):
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        while True:  # fill the socket buffer
            try:
                ours.send(b"x" * 65536)
            except BlockingIOError:
                break
        harness.worker.enqueue(data_file, 0, [b"r"], os.dup(ours.fileno()), b"250 late\r\n")
        [batch] = harness.reports(1)
        assert batch[2] == journalio.OK and batch[6] == (0,)
    finally:
        ours.close()
        theirs.close()


def test_a_failed_batch_halts_the_worker_until_resume(harness, data_file, tmp_path):
    (tmp_path / "ro").write_bytes(b"old")
    read_only = os.open(tmp_path / "ro", os.O_RDONLY)
    ours, theirs = socket.socketpair()
    try:
        reply_fd = os.dup(ours.fileno())
        harness.worker.enqueue(read_only, 0, [b"new"], reply_fd, b"250 never\r\n")
        harness.worker.enqueue(read_only, 3, [b"more"])
        batches = harness.reports(2)
        assert batches[0][1:4] == (0, journalio.FAILED_WRITE, errno.EBADF)
        assert all(batch[2] == journalio.CANCELLED and batch[1] == 0 for batch in batches[1:])
        os.fstat(reply_fd)  # left open: it is the caller's again
        os.close(reply_fd)
        harness.worker.enqueue(data_file, 0, [b"later"])  # still halted: cancelled
        assert harness.reports(1)[0][2] == journalio.CANCELLED
        harness.worker.resume()
        harness.worker.enqueue(data_file, 0, [b"later"])
        assert harness.reports(1)[0][1:3] == (5, journalio.OK)
        theirs.setblocking(False)
        with pytest.raises(BlockingIOError):
            theirs.recv(100)
    finally:
        os.close(read_only)
        ours.close()
        theirs.close()
    assert (tmp_path / "ro").read_bytes() == b"old"


def test_fdatasync_failure_is_its_own_stage(harness):
    read_end, write_end = os.pipe()  # fdatasync on a pipe: EINVAL
    try:
        harness.worker.enqueue(read_end, 0, [])
        assert harness.reports(1)[0][1:4] == (0, journalio.FAILED_SYNC, errno.EINVAL)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_no_sync_when_not_asked(factory):
    harness = Harness(factory, sync=False)
    read_end, write_end = os.pipe()
    try:
        harness.worker.enqueue(read_end, 0, [b""])  # nothing to write, no fdatasync: fine
        assert harness.reports(1)[0][1:4] == (0, journalio.OK, 0)
    finally:
        os.close(read_end)
        os.close(write_end)
        harness.close()


def test_the_worker_keeps_queued_buffers_alive(harness, data_file):
    for number in range(4):  # no other references to the buffers
        harness.worker.enqueue(data_file, number * 10240, [bytes(range(256)) * 40])
    harness.reports(4)
    assert os.pread(data_file, 10240, 30720) == bytes(range(256)) * 40


def test_close_writes_what_is_queued_and_is_idempotent(factory, data_file):
    harness = Harness(factory)
    harness.worker.enqueue(data_file, 0, [b"z" * (1 << 20)])
    harness.worker.close()
    harness.worker.close()
    assert os.pread(data_file, 1 << 20, 0) == b"z" * (1 << 20)
    with pytest.raises(RuntimeError, match="closed"):
        harness.worker.enqueue(data_file, 0, [b"x"])
    os.fstat(harness.eventfd)  # the eventfd is the caller's
    os.close(harness.eventfd)


PARTIAL = """
import os, resource, select, sys
sys.path.insert(0, {root!r})
from ecelerity._speedups import journalio
if {twin!r} == "cython":
    from ecelerity._speedups._c_journalio import JournalWorker
else:
    JournalWorker = journalio._py_JournalWorker
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))  # SIGXFSZ is ignored
fd = os.open({path!r}, os.O_RDWR | os.O_CREAT, 0o600)
efd = os.eventfd(0)
worker = JournalWorker(efd, True)
worker.enqueue(fd, 100, [b"a" * 600, b"b" * 600])
select.select([efd], [], [], 5)
print(*worker.take_done()[0][1:4], os.pread(fd, 2000, 0) == bytes(100) + b"a" * 600 + b"b" * 300)
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


def test_write_and_sync_is_one_batch_callable_from_any_thread(data_file):
    assert journalio.write_and_sync(data_file, [b"ab", b"cd"], 2, True) == (4, journalio.OK, 0)
    assert os.pread(data_file, 10, 0) == b"\0\0abcd"
    assert journalio.write_and_sync(-1, [b"x"], 0, True) == (0, journalio.FAILED_WRITE, errno.EBADF)


FORKED = """
import os, sys
sys.path.insert(0, {root!r})
from ecelerity._speedups import journalio
if {twin!r} == "cython":
    from ecelerity._speedups._c_journalio import JournalWorker
else:
    JournalWorker = journalio._py_JournalWorker
worker = JournalWorker(os.eventfd(0), True)
pid = os.fork()
if pid == 0:
    try:
        worker.enqueue(1, 0, [b"x"])
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


def test_min_interval_spaces_batches_so_records_arriving_meanwhile_join_one(factory, data_file):
    harness = Harness(factory, max_batch_bytes=1 << 20)
    harness.worker.close()  # (re-created below with an interval)
    harness.worker = factory(harness.eventfd, True, 1 << 20, 0.2)
    try:
        harness.worker.enqueue(data_file, 0, [b"first"])
        [first] = harness.reports(1)
        for number in range(5):  # within the 0.2 s after the first batch started
            harness.worker.enqueue(data_file, 5 + number, [b"%d" % number])
            time.sleep(0.01)
        batches = harness.reports(5)
        assert [batch[0] for batch in batches] == [5]
        assert batches[0][4] - first[4] >= 0.2 - 0.005
        assert os.pread(data_file, 20, 0) == b"first01234"
    finally:
        harness.close()
