"""benchmarks/sieve_allocs.py (and its native_probe.py counters) on a tiny load (smoke)."""
from __future__ import annotations

import shutil
import sysconfig

import pytest

from benchmarks.native_probe import load
from benchmarks.sieve_allocs import measure

pytestmark = pytest.mark.skipif(shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]) is None,
                                reason="no C compiler to build the probe")


def test_the_probe_counts_allocations_and_bytes():
    probe = load()
    probe.install()
    before = probe.counts()
    kept = [bytes(1000 + n) for n in range(100)]  # 100 objects of > 1000 bytes each
    after = probe.counts()
    assert after[0] - before[0] >= 100 and after[1] - before[1] >= 100 * 1000
    assert probe.run_a(lambda: len(kept)) == 100 and probe.run_b(lambda: "b") == "b"


def test_the_policy_allocates_on_top_of_the_plain_loop():
    got = measure(messages=60)
    assert got["sieve_allocs"] > got["plain_allocs"] > 0
    assert got["allocs"] > 0 and got["bytes"] > 0
