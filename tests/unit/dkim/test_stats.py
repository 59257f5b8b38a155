"""dkim/stats.py: per-domain and total counts, the signing_stats modes, reset and rendering."""
from __future__ import annotations

from ecelerity.dkim.stats import SigningStats, render


def test_counts_per_domain_and_totals_then_reset():
    stats = SigningStats()
    for what, domain in [("signed", "A.test"), ("signed", "a.test"), ("errors", "b.test"),
                         ("skipped", "")]:
        stats.count(what, domain)
    snap = stats.snapshot()
    assert snap["totals"] == {"signed": 2, "errors": 1, "skipped": 1}
    assert snap["domains"] == {"a.test": {"signed": 2, "errors": 0, "skipped": 0},
                               "b.test": {"signed": 0, "errors": 1, "skipped": 0}}
    assert render(snap) == ["DKIM signing: signed=2  errors=1  skipped=1",
                            "  a.test: signed=2  errors=0  skipped=0",
                            "  b.test: signed=0  errors=1  skipped=0"]
    stats.reset()
    assert stats.snapshot()["totals"] == {"signed": 0, "errors": 0, "skipped": 0}


def test_totals_mode_keeps_no_domains_and_none_keeps_nothing():
    totals, nothing = SigningStats(mode="totals"), SigningStats(mode="none")
    for stats in (totals, nothing):
        stats.count("signed", "a.test")
    assert totals.snapshot() == {"totals": {"signed": 1, "errors": 0, "skipped": 0}, "domains": {}}
    assert nothing.snapshot()["totals"]["signed"] == 0
