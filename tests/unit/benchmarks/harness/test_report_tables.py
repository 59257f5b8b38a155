"""Target checks compute from the measured rows: policy cost, relay ratio, slowdisk kept share."""
from __future__ import annotations

from benchmarks.harness import report_tables


def relay_row(peer: str, msg_per_s: float, cpu: float, p99: float = 5.0, size: int = 2048,
              sessions: int = 20) -> dict:
    lat = {"p50": 1.0, "p90": 2.0, "p99": p99, "max": p99, "samples": 10}
    return {"peer": peer, "size": size, "sessions": sessions, "received": 1000, "msg_per_s": msg_per_s,
            "cpu_s_per_1000_total": cpu, "cpu_s_per_1000": {"python": cpu}, "peak_rss_kb_sum": 2048,
            "peak_rss_kb_max": 2048, "latency_ms": lat, "sink_latency_ms": lat, "lost": 0}


def test_policy_cost_is_cpu_difference_per_message_in_microseconds():
    rows = [relay_row("ecelerity", 900, 0.400), relay_row("ecelerity+sieve50", 800, 0.430),
            relay_row("ecelerity+lua5hooks", 700, 0.520)]
    text = "\n".join(report_tables.policy_checks(rows))
    assert "| ecelerity+sieve50 | 0.43 | 0.4 | 30.0 |" in text
    assert "| ecelerity+lua5hooks | 0.52 | 0.4 | 120.0 |" in text
    assert text.count("**missed**") == 1


def test_relay_ratio_states_both_figures_and_judges_only_the_target_load():
    rows = [relay_row("ecelerity", 2100, 0.4, p99=12.0), relay_row("postfix", 1000, 1.2),
            relay_row("ecelerity", 900, 0.4, sessions=100), relay_row("postfix", 1000, 1.2, sessions=100)]
    lines = report_tables.relay_checks(rows)
    [first] = [line for line in lines if line.startswith("| 2 KB x 20 |")]
    assert "| 2100 | 1000 | 2.1 | >= 2.0x: met | 12.0 | <= 10.0 ms: **missed** |" in first
    [second] = [line for line in lines if line.startswith("| 2 KB x 100 |")]
    assert "| 0.9 | - |" in second


def test_slowdisk_kept_share_pairs_each_system_with_itself():
    rows = [relay_row("ecelerity", 1000, 0.4), relay_row("ecelerity +2ms fsync", 650, 0.4),
            relay_row("postfix", 500, 1.2), relay_row("postfix +2ms fsync", 450, 1.2)]
    text = "\n".join(report_tables.slowdisk_checks(rows))
    assert "| ecelerity | 1000 | 650 | 0.65 | **missed** |" in text
    assert "| postfix | 500 | 450 | 0.9 | met |" in text
