"""benchmarks/harness/threadcpu.py reads real per-thread CPU from /proc (this process)."""
from __future__ import annotations

import os
import threading
import time

from benchmarks.harness import threadcpu


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_main_thread_and_the_others_are_told_apart():
    pid = os.getpid()
    hub0, others0 = threadcpu.split_ns(pid)
    started, release = threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def worker() -> None:
        _spin(0.05)
        seen["tid"] = threading.get_native_id()
        started.set()
        release.wait(5)
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert started.wait(5)
        per = threadcpu.threads_ns(pid)
        assert per[seen["tid"]] >= 40_000_000  # its 50 ms, in ns
        hub1, others1 = threadcpu.split_ns(pid)
        assert others1 - others0 >= 40_000_000
        _spin(0.03)
        assert threadcpu.split_ns(pid)[0] - hub1 >= 25_000_000
        assert hub1 >= hub0
    finally:
        release.set()
        thread.join(5)


def test_a_vanished_process_reads_as_nothing():
    assert threadcpu.threads_ns(2 ** 22 + 12345) == {}
    assert threadcpu.split_ns(2 ** 22 + 12345) == (0, 0)
