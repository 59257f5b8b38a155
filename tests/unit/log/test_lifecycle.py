"""Tests of ecelerity/log/lifecycle.py: the shared start/flush/reopen/close and heartbeat."""
from __future__ import annotations

import os

import gevent

from ecelerity.log.lifecycle import WriterLifecycle
from ecelerity.log.writer import LogWriter


class TwoFiles(WriterLifecycle):
    def __init__(self, tmp_path, beat: float = 0.0):
        self.writers = {name: LogWriter(str(tmp_path / name), name=name, use_threadpool=False)
                        for name in ("a.log", "b.log")}
        self.beat = beat
        self.beats = 0

    def heartbeat_seconds(self) -> float:
        return self.beat

    def heartbeat(self, when=None) -> None:
        self.beats += 1
        self.writers["a.log"].write_line("beat")


class OneFile(WriterLifecycle):
    def __init__(self, path: str):
        self.writer = LogWriter(path, name="one", use_threadpool=False)


def test_flush_writes_every_writer(tmp_path):
    sink = TwoFiles(tmp_path)
    sink.start()
    sink.writers["a.log"].write_line("first")
    sink.writers["b.log"].write_line("second")
    sink.flush()
    assert (tmp_path / "a.log").read_text() == "first\n"
    assert (tmp_path / "b.log").read_text() == "second\n"
    sink.close()


def test_single_writer_reopen_after_rotation(tmp_path):
    path = str(tmp_path / "one.log")
    sink = OneFile(path)
    sink.start()
    sink.writer.write_line("old")
    sink.flush()
    os.rename(path, path + ".1")
    sink.reopen()
    sink.writer.write_line("new")
    sink.close()
    assert (tmp_path / "one.log.1").read_text() == "old\n"
    assert (tmp_path / "one.log").read_text() == "new\n"


def test_heartbeat_runs_until_close(tmp_path):
    sink = TwoFiles(tmp_path, beat=0.01)
    sink.start()
    gevent.sleep(0.1)
    sink.close()
    seen = sink.beats
    assert seen >= 2
    assert sink._heartbeat is None
    gevent.sleep(0.05)
    assert sink.beats == seen
    assert (tmp_path / "a.log").read_text().count("beat\n") == seen


def test_no_heartbeat_without_interval(tmp_path):
    sink = TwoFiles(tmp_path)
    sink.start()
    gevent.sleep(0.03)
    assert sink._heartbeat is None and sink.beats == 0
    sink.close()
