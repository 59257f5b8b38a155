"""The slowdisk shim really makes fsync slower in a process that preloads it."""
from __future__ import annotations

import shutil

import pytest

from benchmarks.harness import slow_fsync


@pytest.mark.timeout(60)
def test_shim_adds_the_configured_delay_to_fsync():
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    so = slow_fsync.build_shim(20000)  # 20 ms: far above this VM's own fsync cost
    try:
        slowed = slow_fsync.measure_fsync_ms(so, samples=5)
        plain = slow_fsync.measure_fsync_ms(None, samples=5)
    finally:
        shutil.rmtree(so.parent)
    assert slowed >= 20.0
    assert plain < slowed


def test_dm_reason_is_a_sentence():
    reason = slow_fsync.dm_unavailable()
    assert reason is None or len(reason) > 10
