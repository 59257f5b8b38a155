"""spool_commit.py + spool_cycle.py on the journal I/O worker (no os.* replaced here).

The other spool_commit tests inject faults by replacing os.fdatasync / os.pwritev,
which sends the cycle through gevent's threadpool; these drive the worker path
itself (compiled twin unless ECELERITY_PURE_PYTHON=1): the record is on file before
on_durable runs, a real failing descriptor fails the cycle and the next one recovers
on a new segment, the threadpool mode (ECELERITY_JOURNAL_IO=threadpool) writes the
same bytes, and a killed committer never leaves a busy worker behind.
"""
from __future__ import annotations

import os

import gevent
import pytest

from ecelerity.core import spool_cycle
from ecelerity.core.spool_commit import JournalWriter, segment_name
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
        assert journal._io.mode == "worker" and journal._io._worker is not None
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


@pytest.mark.parametrize("mode", ["worker", "threadpool"])
def test_both_io_modes_write_the_same_journal(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("ECELERITY_JOURNAL_IO", mode)
    journal = JournalWriter(str(tmp_path), 3)
    try:
        for n in range(20):
            journal.append(b"B" if n % 3 else b"D", {"n": n}, b"x" * n)
        assert journal._io.mode == mode
    finally:
        journal.close()
    records, problems = scan((tmp_path / segment_name(3)).read_bytes())
    assert [record.meta["n"] for record in records] == list(range(20)) and problems == []


def test_a_committer_killed_mid_cycle_drops_the_busy_worker(tmp_path):
    cycle_io = spool_cycle.CycleIO(mode="worker")
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        writer = gevent.spawn(cycle_io.write, fd, [b"y" * (4 << 20)], 0, True)
        gevent.sleep(0)  # the job is submitted; the greenlet waits on the eventfd
        worker = cycle_io._worker
        assert worker is not None and worker.busy
        writer.kill()
        assert cycle_io._worker is None  # closed (after its job), never reused
        assert cycle_io.write(fd, [b"z"], 0, True) == (1, 0, 0)  # a fresh worker
        assert cycle_io._worker is not worker
    finally:
        cycle_io.close()
        os.close(fd)


def test_the_next_cycle_is_written_while_the_previous_one_replies(tmp_path):
    """Writes queued during a cycle go to the I/O thread before that cycle's on_durable
    callbacks (the 250s) run, and each is still only reported after its own sync."""
    journal = JournalWriter(str(tmp_path), 1)
    started_before_replies = []

    def on_durable_first(outcome):
        started_before_replies.append(journal._io.in_flight)

    try:
        first = gevent.spawn(journal.append, b"B", {"n": 0}, b"first", on_durable=on_durable_first)
        while not journal._io.in_flight:  # the first cycle is in the I/O thread
            gevent.sleep(0)
        later = [gevent.spawn(journal.append, b"B", {"n": n}, b"later") for n in (1, 2)]
        gevent.joinall([first, *later], raise_error=True)
        assert started_before_replies == [True]
        assert journal.stats.cycles == 2 and journal.stats.records == 3
    finally:
        journal.close()
    records, problems = scan((tmp_path / segment_name(1)).read_bytes())
    assert [record.meta["n"] for record in records] == [0, 1, 2] and problems == []
