"""benchmarks/sieve_in_daemon.py runs the daemon's Sieve hook path on a tiny load (smoke)."""
from __future__ import annotations

from benchmarks.sieve_in_daemon import measure


def test_the_live_measure_runs_the_policy_through_the_loaded_module():
    got = measure(0.2, rounds=2, phases=("data", "each_rcpt"))
    # the script refuses the spam{1,11,...}.example senders: the module really ran
    assert got["replies"].get(550, 0) > 0 and got["replies"].get(250, 0) > 0
    assert got["sieve_best"] > got["plain_best"] > 0
