"""Signing statistics for the ``signing_stats`` console command.

One SigningStats per daemon (kept on the app, so a module reload keeps the
counts), fed by service.py: per signing domain, messages signed, signing errors
(missing key, dkimpy refusal) and messages skipped (sign_condition unset,
opendkim_sign false, no rule for the domain). The ``signing_stats`` option
(Momentum: how statistics are recorded) selects ``all`` (per domain and totals,
default), ``totals`` (totals only) or ``none``. Never does I/O.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

COUNTERS = ("signed", "errors", "skipped")


@dataclass
class SigningStats:
    """Counts by (counter, domain); totals are the sums."""

    mode: str = "all"
    by_domain: dict[str, Counter] = field(default_factory=dict)
    totals: Counter = field(default_factory=Counter)

    def count(self, what: str, domain: str = "") -> None:
        if self.mode == "none":
            return
        self.totals[what] += 1
        if self.mode == "all" and domain:
            self.by_domain.setdefault(domain.lower(), Counter())[what] += 1

    def reset(self) -> None:
        self.by_domain.clear()
        self.totals.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"totals": {name: self.totals[name] for name in COUNTERS},
                "domains": {domain: {name: counts[name] for name in COUNTERS}
                            for domain, counts in sorted(self.by_domain.items())}}


def stats_for(app: Any) -> SigningStats:
    """The daemon's one SigningStats (created on first use)."""
    return app.__dict__.setdefault("dkim_signing_stats", SigningStats())


def render(snapshot: dict[str, Any]) -> list[str]:
    """Console lines: totals, then one line per signing domain."""
    totals = snapshot["totals"]
    lines = ["DKIM signing: " + "  ".join(f"{name}={totals[name]}" for name in COUNTERS)]
    for domain, counts in snapshot["domains"].items():
        lines.append(f"  {domain}: " + "  ".join(f"{name}={counts[name]}" for name in COUNTERS))
    return lines
