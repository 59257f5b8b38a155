"""Target checks compute from the measured rows: policy cost, relay ratio, slowdisk kept share."""
from __future__ import annotations

from benchmarks.harness import report_tables


def relay_row(peer: str, msg_per_s: float, cpu: float, p99: float = 5.0, size: int = 2048,
              sessions: int = 20) -> dict:
    lat = {"p50": 1.0, "p90": 2.0, "p99": p99, "max": p99, "samples": 10}
    return {"peer": peer, "size": size, "sessions": sessions, "received": 1000, "msg_per_s": msg_per_s,
            "cpu_s_per_1000_total": cpu, "cpu_s_per_1000": {"python": cpu}, "peak_rss_kb_sum": 2048,
            "peak_rss_kb_max": 2048, "latency_ms": lat, "sink_latency_ms": lat, "lost": 0}


def policy_row(peer: str, cpu: float, round_no: int, engine_ns: int | None = None,
               received: int = 1000, hub: float | None = None) -> dict:
    row = relay_row(peer, 800, cpu) | {"round": round_no, "received": received}
    if hub is not None:
        row["hub_cpu_us_per_msg"] = hub
    engine = {"ecelerity+sieve50": "sieve", "ecelerity+lua5hooks": "lua"}.get(peer)
    if engine and engine_ns is not None:
        row["policy_cpu"] = {"enabled": True, "sample_every": 8, "bias_ns": 300,
                             "engines": {engine: {"calls": 3000, "sampled_calls": 375,
                                                  "sampled_ns": engine_ns // 8, "ns": engine_ns}}}
    return row


def test_policy_delta_pairs_rounds_and_verdict_uses_the_in_daemon_figure():
    # whole-daemon deltas per round: sieve +30, +130, +80 us, lua +120, +60, +40 (noisy);
    # in-daemon: sieve 45, 47, 46 us, lua 60, 62, 61 us
    # hub thread: plain 300, 250, 350 us; sieve +50, +70, +20; lua +100, +90 (round 2 unread)
    rows = [policy_row("ecelerity", 0.400, 0, hub=300.0),
            policy_row("ecelerity+sieve50", 0.430, 0, 45_000_000, hub=350.0),
            policy_row("ecelerity+lua5hooks", 0.520, 0, 60_000_000, hub=400.0),
            policy_row("ecelerity", 0.300, 1, hub=250.0),
            policy_row("ecelerity+sieve50", 0.430, 1, 47_000_000, hub=320.0),
            policy_row("ecelerity+lua5hooks", 0.360, 1, 62_000_000, hub=340.0),
            policy_row("ecelerity", 0.500, 2, hub=350.0),
            policy_row("ecelerity+sieve50", 0.580, 2, 46_000_000, hub=370.0),
            policy_row("ecelerity+lua5hooks", 0.540, 2, 61_000_000)]
    text = "\n".join(report_tables.policy_checks(rows))
    [sieve] = [line for line in text.splitlines() if "| ecelerity+sieve50 |" in line]
    assert "| 3 | 0.43 | 0.4 | 80.0 (30.0 .. 130.0) | 50.0 (20.0 .. 70.0) | 46.0 (45.0 .. 47.0) |" in sieve
    assert sieve.endswith("<= 50.0 us: met |")
    [lua] = [line for line in text.splitlines() if "| ecelerity+lua5hooks |" in line]
    assert "| 60.0 (40.0 .. 120.0) | 95.0 (90.0 .. 100.0) | 61.0 (60.0 .. 62.0) |" in lua
    assert lua.endswith("**missed** |")


def test_policy_without_in_daemon_figure_is_not_judged():
    rows = [policy_row("ecelerity", 0.400, 0), policy_row("ecelerity+sieve50", 0.401, 0)]
    [line] = [x for x in report_tables.policy_checks(rows) if "sieve50" in x]
    assert "| 1.0 | n/a | n/a | " in line and line.endswith("n/a (not measured) |")
    assert "In-daemon" in "\n".join(report_tables.tables("policy", rows))


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
