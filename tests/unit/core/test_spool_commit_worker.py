"""spool_commit.py + spool_cycle.py on the journal I/O worker.

Most tests here run the compiled worker (unless ECELERITY_PURE_PYTHON=1); those that
replace os.fdatasync / os.pwritev run the reference one (spool_cycle switches to it).
They show: the record is on file before on_durable runs; a failing descriptor fails the
batch and the next write opens a new segment; both worker modes write the same journal;
a killed committer loses no waiter; the thread chains the next batch and sends a
DurableReply with the hub stuck; a failed batch sends no reply and the writes behind
it are laid out again and kept.
"""
from __future__ import annotations

import errno
import os
import socket
import threading
import time

import gevent
import pytest

from ecelerity._speedups import PURE_PYTHON
from ecelerity.core import spool_commit
from ecelerity.core.spool_commit import JournalWriter, segment_name
from ecelerity.core.spool_cycle import DurableReply
from ecelerity.core.spool_format import SpoolError, scan


def test_the_record_is_on_file_when_on_durable_runs(tmp_path):
    journal = JournalWriter(str(tmp_path), 1)
    seen = []

    def on_durable(outcome):
        segment, data_offset = outcome
        with open(tmp_path / segment_name(segment), "rb") as handle:
            handle.seek(data_offset)
            seen.append(handle.read(5))

    try:
        workers = [gevent.spawn(journal.append, b"B", {"n": n}, b"body%d" % n,
                                on_durable=on_durable) for n in range(10)]
        gevent.joinall(workers, raise_error=True)
        assert journal._io._compiled == (not PURE_PYTHON)
        assert sorted(seen) == sorted(b"body%d" % n for n in range(10))
        assert journal.stats.fsyncs == journal.stats.cycles + 2 * journal.stats.segments_opened
    finally:
        journal.close()


def test_a_failing_descriptor_fails_the_cycle_and_the_next_opens_a_new_segment(tmp_path):
    journal = JournalWriter(str(tmp_path), 1)
    try:
        kept = journal.append(b"B", {"n": "kept"}, b"kept")
        (tmp_path / "ro").write_bytes(b"")
        read_only = os.open(tmp_path / "ro", os.O_RDONLY)
        os.dup2(read_only, journal._segment.fd)  # same fd number, now not writable
        os.close(read_only)
        with pytest.raises(SpoolError, match=r"writing 0+1\.seg: pwritev: .*errno 9"):
            journal.append(b"B", {"n": "lost"}, b"lost")
        assert journal.stats.failed_cycles == 1 and journal._segment.fd is None  # sealed
        after = journal.append(b"B", {"n": "after"}, b"after")
        assert after[0] == kept[0] + 1
    finally:
        journal.close()
    records, problems = scan((tmp_path / segment_name(2)).read_bytes())
    assert [record.meta["n"] for record in records] == ["after"] and problems == []


@pytest.mark.parametrize("mode", ["worker", "python"])
def test_both_io_modes_write_the_same_journal(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("ECELERITY_JOURNAL_IO", mode)
    journal = JournalWriter(str(tmp_path), 3)
    try:
        for n in range(20):
            journal.append(b"B" if n % 3 else b"D", {"n": n}, b"x" * n)
        assert journal._io.mode == mode
        assert journal._io._compiled == (mode == "worker" and not PURE_PYTHON)
    finally:
        journal.close()
    records, problems = scan((tmp_path / segment_name(3)).read_bytes())
    assert [record.meta["n"] for record in records] == list(range(20)) and problems == []


def test_a_killed_committer_is_replaced_and_no_waiter_is_lost(tmp_path):
    journal = JournalWriter(str(tmp_path), 1)
    try:
        journal.append(b"D", {"n": -1})
        waiters = [gevent.spawn(journal.append, b"B", {"n": n}, b"x" * 1000) for n in range(5)]
        gevent.sleep(0)  # all five are at the I/O thread; the committer waits on its eventfd
        assert journal._queued
        journal._committer.kill()
        last = journal.append(b"B", {"n": 5}, b"y")  # spawns a new committer
        gevent.joinall(waiters, raise_error=True)
        assert sorted(waiter.value for waiter in waiters)[-1] < last
    finally:
        journal.close()
    records, problems = scan((tmp_path / segment_name(1)).read_bytes())
    assert [record.meta["n"] for record in records] == list(range(-1, 6)) and problems == []


@pytest.fixture
def gated_fdatasync(monkeypatch):
    """fdatasync that waits for ``release`` (in the I/O thread), then syncs for real."""
    real = os.fdatasync
    gate = {"entered": threading.Event(), "release": threading.Event(), "synced": []}

    def gated(fd):
        gate["entered"].set()
        gate["release"].wait(5)
        real(fd)
        gate["synced"].append(time.monotonic())

    monkeypatch.setattr(spool_commit.os, "fdatasync", gated)
    return gate


def test_the_thread_chains_the_next_batch_without_the_hub(tmp_path, gated_fdatasync):
    """Writes queued while a batch is in fdatasync are written and synced by the thread
    right after it, even while the hub is busy (blocked here by time.sleep)."""
    journal = JournalWriter(str(tmp_path), 1, fsync=True)
    try:
        gated_fdatasync["release"].set()
        journal.append(b"D", {"n": -1})  # the segment is open
        gated_fdatasync["release"].clear()
        gated_fdatasync["entered"].clear()
        gated_fdatasync["synced"].clear()
        first = gevent.spawn(journal.append, b"B", {"n": 0}, b"first")
        gevent.sleep(0)
        assert gated_fdatasync["entered"].wait(5)  # the first batch is in its fdatasync
        second = gevent.spawn(journal.append, b"B", {"n": 1}, b"second")
        gevent.sleep(0)  # queued at the thread behind it
        gated_fdatasync["release"].set()
        time.sleep(0.5)  # the hub does nothing meanwhile: only the thread can write
        assert len(gated_fdatasync["synced"]) == 2
        assert first.get(timeout=5)[1] < second.get(timeout=5)[1]
    finally:
        journal.close()
    records, problems = scan((tmp_path / segment_name(1)).read_bytes())
    assert [record.meta["n"] for record in records] == [-1, 0, 1] and problems == []


def test_a_durable_reply_leaves_from_the_thread_while_the_hub_is_busy(tmp_path):
    journal = JournalWriter(str(tmp_path), 1)
    ours, theirs = socket.socketpair()
    delivered = []
    try:
        journal.append(b"D", {"n": -1})
        reply = DurableReply(ours.fileno(), b"250 2.0.0 OK\r\n",
                             lambda sent, at: delivered.append(sent))
        waiter = gevent.spawn(journal.append, b"B", {"n": 0}, b"body", on_durable=reply)
        gevent.sleep(0)  # at the thread
        theirs.settimeout(5)
        assert theirs.recv(100) == b"250 2.0.0 OK\r\n"  # a blocking recv: the hub is stuck
        assert delivered == []  # the committer has not run yet
        segment, data_offset = waiter.get(timeout=5)
        assert delivered == [14] and reply.fd == -1
        with open(tmp_path / segment_name(segment), "rb") as handle:
            handle.seek(data_offset)
            assert handle.read(4) == b"body"  # on file (and fdatasync'd) before the reply
    finally:
        journal.close()
        ours.close()
        theirs.close()


def test_a_failed_batch_sends_no_reply_and_the_writes_behind_it_are_laid_out_again(
        tmp_path, monkeypatch):
    journal = JournalWriter(str(tmp_path), 1)
    ours, theirs = socket.socketpair()
    entered, release = threading.Event(), threading.Event()
    real_pwritev = os.pwritev
    calls = []

    def fail_first(fd, buffers, offset):
        calls.append(offset)
        if len(calls) == 1:
            entered.set()
            release.wait(5)
            raise OSError(errno.EIO, "injected")
        return real_pwritev(fd, buffers, offset)

    try:
        journal.append(b"D", {"n": -1})
        monkeypatch.setattr(spool_commit.os, "pwritev", fail_first)
        reply = DurableReply(ours.fileno(), b"250 no\r\n", lambda sent, at: None)
        failing = gevent.spawn(journal.append, b"B", {"n": 0}, b"lost", on_durable=reply)
        gevent.sleep(0)
        assert entered.wait(5)
        behind = [gevent.spawn(journal.append, b"B", {"n": n}, b"kept") for n in (1, 2, 3)]
        gevent.sleep(0)  # queued at the halted-to-be thread
        release.set()
        with pytest.raises(SpoolError, match="pwritev"):
            failing.get(timeout=5)
        gevent.joinall(behind, raise_error=True, timeout=5)
        assert reply.fd == -1 and journal.stats.failed_cycles == 1
        theirs.setblocking(False)
        with pytest.raises(BlockingIOError):
            theirs.recv(100)  # never a reply for a record that is not durable
    finally:
        journal.close()
        ours.close()
        theirs.close()
    records, problems = scan((tmp_path / segment_name(1)).read_bytes())
    assert [record.meta["n"] for record in records] == [-1, 1, 2, 3] and problems == []
