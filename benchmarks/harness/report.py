"""Benchmark results: JSON (every field) and a Markdown table with ratio rows.

Who calls it: benchmarks/__main__.py after a run. Writes under the results directory
(default benchmarks/results/): ``<scenario>-<UTC stamp>.json`` and ``.md`` plus
``latest-<scenario>.md``. PNG plots only when matplotlib is importable (it is not
installed by default; nothing is plotted then, and the Markdown says so). It must
never change a number: it formats what scenarios.py measured.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from . import report_tables


def machine() -> dict:
    info = {"python": platform.python_version(), "cpus": os.cpu_count(),
            "kernel": platform.release(), "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in f
                                if line.startswith("model name")), "?")
    except OSError:
        pass
    return info


def _size(n: int) -> str:
    return f"{n // 1024} KB" if n >= 1024 else f"{n} B"


def markdown(scenario: str, rows: list[dict], meta: dict) -> str:
    head = [f"## `{scenario}` ({meta['when']}, {meta['machine'].get('cpu', '?')}, "
            f"{meta['machine']['cpus']} CPUs, load average {meta['machine'].get('loadavg', '?')} "
            f"at the end, {'quick' if meta['quick'] else 'full'} run"
            f"{', ecelerity ' + meta['code'] if meta.get('code') else ''})", ""]
    if scenario != "accept":
        out = head + report_tables.tables(scenario, rows)
        out += [f"Plots: {', '.join(Path(p).name for p in meta['plots'])}" if meta.get("plots")
                else "No PNG plots: matplotlib is not installed."]
        return "\n".join(out) + "\n"
    out = head + [
           "| load | system | received | msg/s | CPU s/1000 msg (total) | CPU s/1000 by process | "
           "peak RSS sum (max) MB | p50 / p90 / p99 ms | lost |",
           "|---|---|---:|---:|---:|---|---:|---|---:|"]
    for row in rows:
        if "error" in row:
            out.append(f"| {_size(row['size'])} x {row['sessions']} | {row['peer']} | "
                       f"FAILED: {row['error'][:200]} | | | | | | |")
            continue
        lat = row["latency_ms"]
        by_proc = ", ".join(f"{k} {v}" for k, v in row["cpu_s_per_1000"].items())
        out.append(f"| {_size(row['size'])} x {row['sessions']} | {row['peer']} | {row['received']} | "
                   f"{row['msg_per_s']} | {row['cpu_s_per_1000_total']} | {by_proc} | "
                   f"{row['peak_rss_kb_sum'] / 1024:.1f} ({row['peak_rss_kb_max'] / 1024:.1f}) | "
                   f"{lat['p50']} / {lat['p90']} / {lat['p99']} | {row['lost']} |")
    ratios = ratio_rows(rows)
    if ratios:  # accept only (other scenarios: report_tables)
        out += ["", "| load | ecelerity msg/s | peer | peer msg/s | ratio |", "|---|---:|---|---:|---:|"]
        out += [f"| {r['load']} | {r['ecelerity']} | {r['peer']} | {r['peer_msg_per_s']} | "
                f"{r['ratio']} |" for r in ratios]
    out += ["", "msg/s is counted at the receiver (spool / output files / hold queue) over the wall "
            "time of the load; latency is end-of-DATA -> reply from a 2-session probe running "
            "alongside smtp-source (its messages are counted too)."]
    if not meta.get("plots"):
        out.append("No PNG plots: matplotlib is not installed.")
    return "\n".join(out) + "\n"


def _metric(row: dict, metric: str):
    if metric in ("p99", "sink_p99"):
        return (row.get("latency_ms" if metric == "p99" else "sink_latency_ms") or {}).get("p99")
    return row.get(metric)


PLOT_METRICS = {
    "idle": (("rss_per_session_kb", "RSS per idle session (KB)"),),
    "fanout": (("seconds_to_deliver_all", "seconds to deliver all recipients"),
               ("connections", "connections used")),
    "accept": (("msg_per_s", "messages/s"), ("p99", "p99 end-of-DATA -> 250 (ms)")),
}
RELAY_METRICS = (("msg_per_s", "messages/s (counted at the sink)"), ("p99", "p99 end-of-DATA -> 250 (ms)"),
                 ("sink_p99", "p99 reception -> sink (ms)"))


def ratio_rows(rows: list[dict]) -> list[dict]:
    rows = [r for r in rows if "error" not in r]
    ours = {(r["size"], r["sessions"]): r for r in rows if r["peer"] == "ecelerity"}
    result = []
    for row in rows:
        mine = ours.get((row["size"], row["sessions"]))
        if row["peer"] == "ecelerity" or mine is None or not row["msg_per_s"]:
            continue
        result.append({"load": f"{_size(row['size'])} x {row['sessions']}",
                       "ecelerity": mine["msg_per_s"], "peer": row["peer"],
                       "peer_msg_per_s": row["msg_per_s"],
                       "ratio": round(mine["msg_per_s"] / row["msg_per_s"], 2)})
    return result


def plots(scenario: str, rows: list[dict], stem: Path) -> list[str]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    rows = [r for r in rows if "error" not in r]
    for metric, label in PLOT_METRICS.get(scenario, RELAY_METRICS):
        fig, ax = plt.subplots(figsize=(8, 4))
        peers = sorted({r["peer"] for r in rows})
        loads = sorted({(r["size"], r["sessions"]) for r in rows})
        width = 0.8 / max(1, len(peers))
        for i, peer in enumerate(peers):
            values = [next((_metric(r, metric) for r in rows if r["peer"] == peer and (r["size"], r["sessions"]) == load), 0)
                      or 0 for load in loads]
            ax.bar([x + i * width for x in range(len(loads))], values, width, label=peer)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(loads))],
                      [f"{_size(s)} x {n}" for s, n in loads])
        ax.set_ylabel(label)
        ax.set_title(f"{scenario}: {label}")
        ax.legend()
        path = f"{stem}-{metric}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def write(scenario: str, rows: list[dict], results_dir: Path, *, quick: bool,
          code: str = "") -> dict[str, str]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    stem = results_dir / f"{scenario}-{stamp}{'-quick' if quick else ''}"
    meta = {"scenario": scenario, "when": stamp, "quick": quick, "machine": machine(), "code": code}
    meta["plots"] = plots(scenario, rows, stem)
    text = markdown(scenario, rows, meta)
    Path(f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows,
                                                "ratios": ratio_rows(rows) if scenario in ("accept", "relay") else []}, indent=2) + "\n")
    Path(f"{stem}.md").write_text(text)
    (results_dir / f"latest-{scenario}{'-quick' if quick else ''}.md").write_text(text)
    return {"json": f"{stem}.json", "markdown": f"{stem}.md", "text": text}
