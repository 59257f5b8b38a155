"""ecelerity/log/writer.py: buffering, timed flush, reopen without loss, full disk survival."""
from __future__ import annotations

import os

import gevent
import pytest

from ecelerity.log.writer import LogWriter


class Reports:
    """Collects what a writer reports (stands in for the paniclog's write(module, text))."""

    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def __call__(self, module: str, text: str) -> None:
        self.lines.append((module, text))


def read_lines(*paths) -> list[str]:
    lines: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            lines.extend(handle.read().splitlines())
    return lines


def test_lines_wait_in_memory_until_flush(tmp_path):
    path = tmp_path / "log" / "mainlog.ec"
    writer = LogWriter(str(path))
    writer.write_line("one")
    writer.write_line("two")
    assert not path.exists()
    assert writer.pending_lines == 2
    writer.flush()
    assert path.read_text() == "one\ntwo\n"
    assert writer.stats.lines_written == 2 and writer.pending_lines == 0
    writer.close()


def test_file_mode_is_applied_to_a_new_file(tmp_path):
    path = tmp_path / "mainlog.ec"
    old_umask = os.umask(0)
    try:
        writer = LogWriter(str(path), mode=0o600)
        writer.write_line("x")
        writer.close()
    finally:
        os.umask(old_umask)
    assert (path.stat().st_mode & 0o777) == 0o600


def test_timer_flushes_without_an_explicit_call(tmp_path):
    path = tmp_path / "mainlog.ec"
    writer = LogWriter(str(path), flush_interval=0.05)
    writer.start()
    writer.write_line("timed")
    deadline = 50
    while deadline and not (path.exists() and path.read_text() == "timed\n"):
        gevent.sleep(0.02)
        deadline -= 1
    assert path.read_text() == "timed\n"
    writer.close()


def test_a_large_buffer_wakes_the_flusher_early(tmp_path):
    path = tmp_path / "mainlog.ec"
    writer = LogWriter(str(path), flush_interval=30, wake_at_chars=100)
    writer.start()
    for number in range(20):
        writer.write_line(f"line {number:04d}")
    gevent.sleep(0.3)
    assert len(read_lines(path)) == 20
    writer.close()


def test_reopen_after_rename_splits_lines_between_files(tmp_path):
    path = tmp_path / "mainlog.ec"
    writer = LogWriter(str(path))
    writer.write_line("before-1")
    writer.flush()
    writer.write_line("before-2")  # buffered when the file is renamed
    os.rename(path, str(path) + ".1")
    writer.reopen()
    writer.write_line("after")
    writer.close()
    assert read_lines(str(path) + ".1") == ["before-1", "before-2"]
    assert read_lines(path) == ["after"]
    assert writer.stats.reopens == 1


def test_close_flushes_and_late_lines_are_still_written(tmp_path):
    path = tmp_path / "mainlog.ec"
    writer = LogWriter(str(path))
    writer.start()
    writer.write_line("last before shutdown")
    writer.close()
    assert read_lines(path) == ["last before shutdown"]
    writer.write_line("late")
    assert read_lines(path) == ["last before shutdown", "late"]


def test_full_disk_is_reported_once_and_lines_survive_until_space_returns(tmp_path):
    path = tmp_path / "mainlog.ec"
    os.symlink("/dev/full", path)
    reports = Reports()
    writer = LogWriter(str(path), report=reports)
    for round_number in range(3):
        writer.write_line(f"kept {round_number}")
        writer.flush()  # ENOSPC every time: no exception reaches the caller
    assert writer.stats.write_errors == 3
    assert len(reports.lines) == 1
    assert "No space left on device" in reports.lines[0][1]
    assert "mainlog.ec" in reports.lines[0][1]
    # the operator frees space: here the path becomes a real file, then logs are reopened
    os.unlink(path)
    writer.reopen()
    writer.write_line("after")
    writer.close()
    assert read_lines(path) == ["kept 0", "kept 1", "kept 2", "after"]
    assert len(reports.lines) == 2 and "writable again" in reports.lines[1][1]
    assert writer.stats.lines_dropped == 0


def test_unwritable_backlog_is_capped_and_drops_are_counted(tmp_path):
    path = tmp_path / "mainlog.ec"
    os.symlink("/dev/full", path)
    writer = LogWriter(str(path), max_pending_bytes=100, report=Reports())
    for number in range(50):
        writer.write_line(f"line {number:04d}")  # 10 bytes each with the newline
    writer.flush()
    assert writer.stats.lines_dropped == 40
    os.unlink(path)
    writer.reopen()
    writer.close()
    assert read_lines(path) == [f"line {number:04d}" for number in range(40, 50)]


def test_a_path_that_cannot_be_opened_is_reported_not_raised(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    reports = Reports()
    writer = LogWriter(str(blocker / "mainlog.ec"), report=reports)
    writer.write_line("x")
    writer.flush()
    writer.flush()
    assert len(reports.lines) == 1 and "cannot open" in reports.lines[0][1]
    writer.close()


def test_undecodable_text_is_written_not_raised(tmp_path):
    path = tmp_path / "mainlog.ec"
    writer = LogWriter(str(path))
    writer.write_line("bad \udcff surrogate")
    writer.close()
    assert path.read_bytes() == b"bad \\udcff surrogate\n"


@pytest.mark.parametrize("use_threadpool", [True, False])
def test_reopen_under_load_loses_and_duplicates_nothing(tmp_path, use_threadpool):
    path = tmp_path / "mainlog.ec"
    writer = LogWriter(str(path), flush_interval=0.002, use_threadpool=use_threadpool)
    writer.start()
    produced = []

    def producer():
        for number in range(20000):
            line = f"rec-{number}"
            writer.write_line(line)
            produced.append(line)
            if number % 50 == 0:
                gevent.sleep(0)

    worker = gevent.spawn(producer)
    rotated = []
    for generation in range(20):
        gevent.sleep(0.003)
        target = f"{path}.{generation}"
        if path.exists():
            os.rename(path, target)
            rotated.append(target)
        writer.reopen()
    worker.join()
    writer.close()
    lines = read_lines(*rotated, path)
    assert len(lines) == len(produced) == 20000
    assert lines == produced  # every line once, in order, across the generations
    assert len(rotated) >= 10
