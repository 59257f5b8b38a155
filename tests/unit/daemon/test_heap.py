"""daemon/heap.py: the start-up heap is frozen out of the cyclic collector, and a reload
lets the replaced configuration's cycles go. Also checked on a real daemon: it freezes
after start-up (console ``memory``), and not with ECELERITY_GC_FREEZE=0."""
from __future__ import annotations

import gc
import weakref

from ecelerity.daemon import heap
from tests.helpers.daemon import start_daemon


class _Node:
    pass


def test_frozen_cycles_wait_for_the_reload_then_go(monkeypatch):
    monkeypatch.setenv(heap.ENV_VAR, "1")
    node = _Node()
    node.self = node  # a cycle: only the collector can free it
    ref = weakref.ref(node)
    try:
        assert heap.freeze_startup_heap() > 0
        del node
        gc.collect()
        assert ref() is not None  # frozen: invisible to the collector
        assert heap.refreeze_after_reload() > 0
        assert ref() is None
    finally:
        gc.unfreeze()


def test_switched_off_freezes_nothing(monkeypatch):
    monkeypatch.setenv(heap.ENV_VAR, "0")
    assert heap.freeze_startup_heap() == 0
    assert heap.refreeze_after_reload() == 0
    assert gc.get_freeze_count() == 0


def _frozen(daemon) -> int:
    [line] = [line for line in daemon.command("memory").body if line.startswith("GC frozen")]
    return int(line.rsplit(":", 1)[1])


def test_the_daemon_freezes_after_start_up(tmp_path):
    conf = 'ESMTP_Listener { Listen "127.0.0.1:0" { } }\n'
    daemon = start_daemon(conf, tmp_path / "on")
    try:
        assert _frozen(daemon) > 10_000  # modules, configuration, console commands...
    finally:
        daemon.stop()
    daemon = start_daemon(conf, tmp_path / "off", env={heap.ENV_VAR: "0"})
    try:
        assert _frozen(daemon) == 0
    finally:
        daemon.stop()
