"""Markdown tables and target checks for relay, policy, slowdisk, idle and fanout results.

Who calls it: report.py. Formats what the runners measured and compares it with the
issue-9 targets (relay >= 2x Postfix, p99 end-of-DATA -> 250 <= 10 ms at 20 sessions,
Sieve/Lua <= 50 us/message (policy_cost.py), idle <= 50 KB/session, slowdisk within 30% of relay). It
must never change a number, and states both systems' figures in every ratio row.
"""
from __future__ import annotations

from .policy_cost import NOTE as POLICY_NOTE
from .policy_cost import policy_checks

TARGETS = {"relay_ratio": 2.0, "p99_ms": 10.0, "policy_us": 50.0, "idle_kb": 50.0,
           "slowdisk_keep": 0.70}


def _size(n: int) -> str:
    return f"{n // 1024} KB" if n >= 1024 else f"{n} B"


def _ok(good: bool) -> str:
    return "met" if good else "**missed**"


def relay_table(rows: list[dict]) -> list[str]:
    out = ["| load | system | at sink | msg/s | CPU s/1000 (total) | CPU s/1000 by process | "
           "peak RSS sum (max) MB | EOD->250 p50 / p90 / p99 ms | reception->sink p50 / p99 ms | lost |",
           "|---|---|---:|---:|---:|---|---:|---|---|---:|"]
    for row in rows:
        load = f"{_size(row['size'])} x {row['sessions']}"
        if "error" in row:
            out.append(f"| {load} | {row['peer']} | FAILED: {row['error'][:200]} | | | | | | | |")
            continue
        lat, sink = row["latency_ms"], row["sink_latency_ms"]
        by_proc = ", ".join(f"{k} {v}" for k, v in row["cpu_s_per_1000"].items())
        out.append(f"| {load} | {row['peer']} | {row['received']} | {row['msg_per_s']} | "
                   f"{row['cpu_s_per_1000_total']} | {by_proc} | {row['peak_rss_kb_sum'] / 1024:.1f} "
                   f"({row['peak_rss_kb_max'] / 1024:.1f}) | {lat['p50']} / {lat['p90']} / {lat['p99']} | "
                   f"{sink['p50']} / {sink['p99']} | {row['lost']} |")
    return out


def _by(rows: list[dict]) -> dict:
    return {(r["peer"], r["size"], r["sessions"]): r for r in rows if "error" not in r}


def relay_checks(rows: list[dict]) -> list[str]:
    by = _by(rows)
    out = ["| load | ecelerity msg/s | Postfix msg/s | ratio | target | ecelerity p99 EOD->250 ms | target |",
           "|---|---:|---:|---:|---|---:|---|"]
    for (peer, size, sessions), mine in by.items():
        theirs = by.get(("postfix", size, sessions))
        if peer != "ecelerity":
            continue
        ratio = round(mine["msg_per_s"] / theirs["msg_per_s"], 2) if theirs and theirs["msg_per_s"] else None
        p99 = mine["latency_ms"]["p99"]
        p99_target = f"<= {TARGETS['p99_ms']} ms: {_ok(p99 is not None and p99 <= TARGETS['p99_ms'])}" \
            if sessions == 20 else "-"
        ratio_target = f">= {TARGETS['relay_ratio']}x: {_ok(ratio is not None and ratio >= 2.0)}" \
            if size == 2048 and sessions == 20 else "-"
        out.append(f"| {_size(size)} x {sessions} | {mine['msg_per_s']} | "
                   f"{theirs['msg_per_s'] if theirs else 'n/a'} | {ratio} | {ratio_target} | {p99} | {p99_target} |")
    return out


def slowdisk_checks(rows: list[dict]) -> list[str]:
    by = _by(rows)
    out = ["| load | system | msg/s fsync plain | msg/s fsync +2 ms | kept | target (>= 70% kept) |",
           "|---|---|---:|---:|---:|---|"]
    for (peer, size, sessions), slow in by.items():
        if not peer.endswith(" +2ms fsync"):
            continue
        plain = by.get((peer.removesuffix(" +2ms fsync"), size, sessions))
        if plain is None or not plain["msg_per_s"]:
            continue
        kept = round(slow["msg_per_s"] / plain["msg_per_s"], 2)
        out.append(f"| {_size(size)} x {sessions} | {plain['peer']} | {plain['msg_per_s']} | "
                   f"{slow['msg_per_s']} | {kept} | {_ok(kept >= TARGETS['slowdisk_keep'])} |")
    method = next((r["slowdisk_method"] for r in rows if "slowdisk_method" in r), None)
    if method:
        shim = next(r for r in rows if "slowdisk_method" in r)
        out += ["", f"Slow disk made by: {method}; measured fsync {shim['fsync_ms_plain']} ms plain, "
                f"{shim['fsync_ms_shim']} ms with the shim."]
    return out


def idle_table(rows: list[dict]) -> list[str]:
    out = ["| system | sessions | still open | RSS before MB | RSS after MB | RSS per session KB | "
           "target (<= 50 KB) |", "|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        if "error" in row:
            out.append(f"| {row['peer']} | {row['sessions']} | FAILED: {row['error'][:200]} | | | | |")
            continue
        target = _ok(row["rss_per_session_kb"] <= TARGETS["idle_kb"]) if row["peer"] == "ecelerity" else "-"
        out.append(f"| {row['peer']} | {row['sessions']} | {row['open_at_end']} | "
                   f"{row['rss_before_kb'] / 1024:.1f} | {row['rss_after_kb'] / 1024:.1f} | "
                   f"{row['rss_per_session_kb']} | {target} |")
    return out


def fanout_table(rows: list[dict]) -> list[str]:
    out = ["| system | recipients / domains | at sink | seconds to deliver all | transactions | "
           "connections | CPU s | peak RSS MB | lost |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        if "error" in row:
            out.append(f"| {row['peer']} | FAILED: {row['error'][:200]} | | | | | | | |")
            continue
        out.append(f"| {row['peer']} | {row['recipients']} / {row['domains']} | {row['received_recipients']} | "
                   f"{row['seconds_to_deliver_all']} | {row['transactions']} | {row['connections']} | "
                   f"{row['cpu_s']} | {row['peak_rss_kb_max'] / 1024:.1f} | {row['lost']} |")
    return out


NOTES = {
    "relay": "msg/s = messages counted at the sink (smtp-sink -d dump files) / time from the first "
             "message sent to the last one seen at the sink. EOD->250: a 2-session probe beside "
             "smtp-source; reception->sink: the probe's X-Bench-Sent header vs the sink file's mtime.",
    "idle": "RSS per session = (VmRSS with N idle sessions that completed EHLO - VmRSS with one) / N. "
            "Postfix is not run (one smtpd process per session).",
    "fanout": "One SMTP transaction with all recipients; every domain routed to one smtp-sink "
              "(ecelerity: gateway; Postfix: relayhost). Connections = sessions the sink saw end.",
}


def tables(scenario: str, rows: list[dict]) -> list[str]:
    if scenario == "idle":
        return idle_table(rows) + ["", NOTES["idle"]]
    if scenario == "fanout":
        return fanout_table(rows) + ["", NOTES["fanout"]]
    out = relay_table(rows) + [""]
    out += {"relay": relay_checks, "policy": policy_checks, "slowdisk": slowdisk_checks}[scenario](rows)
    return out + ["", NOTES["relay"]] + (["", POLICY_NOTE] if scenario == "policy" else [])
