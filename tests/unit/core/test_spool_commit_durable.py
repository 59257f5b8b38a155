"""Tests for JournalWriter.append(on_durable=...) (core/spool_commit.py): the callback the
SMTP session uses to send its 250 from the committer. It must run only after the
fdatasync covering the record, before the waiter wakes, and never for a failed cycle."""
import errno
import os

import gevent
import pytest

from ecelerity.core import spool_commit
from ecelerity.core.spool_commit import JournalWriter, segment_name
from ecelerity.core.spool_format import SpoolError, scan


@pytest.fixture
def fsync_log(monkeypatch):
    """The real fdatasync, with each call noted in order."""
    events: list = []
    real_fdatasync = os.fdatasync

    def noted_fdatasync(fd):
        real_fdatasync(fd)
        events.append("fdatasync")

    monkeypatch.setattr(spool_commit.os, "fdatasync", noted_fdatasync)
    return events


def test_on_durable_runs_after_the_fdatasync_and_before_the_waiter_wakes(tmp_path, fsync_log):
    journal = JournalWriter(str(tmp_path), 1)
    seen_on_disk = []

    def on_durable(outcome):
        fsync_log.append(("durable", outcome))
        records, _ = scan((tmp_path / segment_name(1)).read_bytes())
        seen_on_disk.append([r.meta for r in records])

    where = journal.append(b"B", {"n": 1}, b"body", on_durable=on_durable)
    fsync_log.append("woken")
    journal.close()
    assert fsync_log == ["fdatasync", ("durable", where), "woken"]
    assert seen_on_disk == [[{"n": 1}]]


def test_callbacks_of_one_cycle_all_run_before_any_waiter_wakes(tmp_path, fsync_log):
    journal = JournalWriter(str(tmp_path), 1)

    def store(n):
        journal.append(b"B", {"n": n}, b"x", on_durable=lambda _o: fsync_log.append(f"cb{n}"))
        fsync_log.append(f"woken{n}")

    gevent.joinall([gevent.spawn(store, n) for n in range(5)], raise_error=True)
    journal.close()
    syncs = fsync_log.count("fdatasync")
    assert {f"cb{n}" for n in range(5)} <= set(fsync_log)
    for n in range(5):
        assert fsync_log.index(f"cb{n}") < fsync_log.index(f"woken{n}")
    assert syncs < 5  # the five shared cycles (group commit still works with callbacks)


def test_a_failed_cycle_never_calls_on_durable(tmp_path, monkeypatch):
    journal = JournalWriter(str(tmp_path), 1)
    called = []

    def fail(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(spool_commit.os, "fdatasync", fail)
    with pytest.raises(SpoolError, match="errno 5"):
        journal.append(b"B", {"n": 1}, b"lost", on_durable=called.append)
    assert called == []
    journal.close()


def test_a_raising_callback_neither_stops_the_committer_nor_fails_the_write(tmp_path, caplog):
    journal = JournalWriter(str(tmp_path), 1)

    def broken(_outcome):
        raise RuntimeError("callback bug")

    first = journal.append(b"B", {"n": 1}, b"a", on_durable=broken)
    second = journal.append(b"B", {"n": 2}, b"b")
    journal.close()
    assert first[0] == second[0] == 1 and second[1] > first[1]
    assert "on_durable callback failed" in caplog.text
