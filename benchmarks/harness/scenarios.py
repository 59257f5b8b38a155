"""Benchmark scenarios: which loads, how each peer is driven, what is measured.

Who calls it: benchmarks/__main__.py and the smoke test. For every load and every peer
it starts the peer on a fresh work directory, drives the load, stops the peer and
counts what the receiver holds. msg/s = messages counted at the receiver / wall time.
It must never report the sender's count as the result, and never leave a peer running
(every peer is stopped in a finally).

Scenarios: ``accept`` (here: reception with spooling and fsync, no delivery; aiosmtpd
writes + fsyncs a file per message; Postfix puts every message on hold),
``relay`` (relay.py: smtp-source -> MTA -> smtp-sink, counted at the sink, ecelerity
and Postfix back to back), ``policy`` (relay through ecelerity plain / with a 50-rule
Sieve++ script / with a 5-hook Lua policy, ``repeat`` interleaved rounds: CPU per message
of each engine, in-daemon and whole-daemon, policy_cost.py),
``slowdisk`` (relay with and without a ~2 ms fsync, slow_fsync.py), ``idle`` (idle.py:
concurrent idle sessions, RSS per session) and ``fanout`` (fanout.py: one message to
1,000 recipients over 50 domains).
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests.helpers.inject import Injector, percentile
from tests.helpers.tools import find_tool

from . import procstat
from .peers import PEERS, Peer

PROBE_SESSIONS = 2


@dataclass(frozen=True)
class Load:
    size: int
    sessions: int
    messages: int

    @property
    def label(self) -> str:
        size = f"{self.size // 1024} KB" if self.size >= 1024 else f"{self.size} B"
        return f"{size} x {self.sessions} sessions"


FULL_LOADS = [Load(2048, 20, 10000), Load(2048, 100, 10000),
              Load(102400, 20, 2000), Load(102400, 100, 2000)]
QUICK_LOADS = [Load(2048, 20, 300)]
SCENARIOS = ("accept", "relay", "policy", "slowdisk", "idle", "fanout")
# which peers each scenario can drive (intersected with --peers)
SCENARIO_PEERS = {"accept": ("ecelerity", "aiosmtpd", "postfix"), "relay": ("ecelerity", "postfix"),
                  "policy": ("ecelerity",), "slowdisk": ("ecelerity", "postfix"),
                  "idle": ("ecelerity", "aiosmtpd"), "fanout": ("ecelerity", "postfix")}
POLICY_LOADS = {True: [Load(2048, 20, 300)], False: [Load(2048, 20, 10000)]}
SLOWDISK_LOADS = {True: [Load(2048, 20, 300)], False: [Load(2048, 20, 10000), Load(2048, 100, 10000)]}
IDLE_SESSIONS = {True: 200, False: 10000}
FANOUT = {True: (100, 10), False: (1000, 50)}


def _cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: max(0.0, cpu - before.get(name, 0.0)) for name, cpu in after.items()}


def run_one(peer: Peer, load: Load, progress: Callable[[str], None]) -> dict:
    """Drive one peer with one load; the result row (see report.py for the fields)."""
    smtp_source = find_tool("smtp-source")
    if smtp_source is None:
        raise RuntimeError("smtp-source not found: apt-get install postfix")
    try:
        peer.start()
        before = procstat.cpu_by_name(peer.processes(), peer.root_pid)
        probe = Injector("127.0.0.1", peer.port, sessions=PROBE_SESSIONS, body_size=load.size,
                         prefix="probe-", timeout=60.0)
        started = time.perf_counter()
        probe.start()
        source = subprocess.Popen([smtp_source, "-d", "-s", str(load.sessions), "-m", str(load.messages),
                                   "-l", str(load.size), "-f", "bench@example.org",
                                   "-t", "rcpt@example.com", f"127.0.0.1:{peer.port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while source.poll() is None:
            progress(f"{peer.name:10s} {load.label}: {time.perf_counter() - started:5.1f}s")
            try:
                source.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
        elapsed = time.perf_counter() - started
        probe.stop()
        samples = peer.processes()
        after = procstat.cpu_by_name(samples, peer.root_pid)
        source_error = source.stderr.read().decode(errors="replace").strip() if source.stderr else ""
    finally:
        peer.stop()
    received = peer.received()
    acked_by_probe = len(probe.acked)
    cpu = _cpu_delta(before, after)
    latencies = probe.latencies()
    per_k = 1000.0 / received if received else 0.0
    return {
        "peer": peer.name, "size": load.size, "sessions": load.sessions,
        "sent_by_smtp_source": load.messages, "smtp_source_exit": source.returncode,
        "smtp_source_error": source_error[-500:], "probe_acked": acked_by_probe,
        "received": received, "seconds": round(elapsed, 3),
        "msg_per_s": round(received / elapsed, 1) if elapsed else 0.0,
        "cpu_s_per_1000": {name: round(sec * per_k, 3) for name, sec in sorted(cpu.items()) if sec},
        "cpu_s_per_1000_total": round(sum(cpu.values()) * per_k, 3),
        "peak_rss_kb_sum": sum(s.hwm_kb for s in samples),
        "peak_rss_kb_max": max((s.hwm_kb for s in samples), default=0),
        "processes": len(samples),
        "latency_ms": {f"p{int(q * 100)}": (round(v * 1000, 2) if v is not None else None)
                       for q in (0.5, 0.9, 0.99) for v in [percentile(latencies, q)]}
                      | {"max": round(latencies[-1] * 1000, 2) if latencies else None,
                         "samples": len(latencies)},
        # the receiver must hold at least everything that was acknowledged
        "lost": max(0, (load.messages if source.returncode == 0 else 0) + acked_by_probe - received),
    }


def run_scenario(name: str, peers: list[str], loads: list[Load], workdir: Path,
                 progress: Callable[[str], None] = lambda _: None, *, quick: bool = False,
                 profile_dir: Path | None = None, repeat: int = 3) -> list[dict]:
    if name not in SCENARIOS:
        raise ValueError(f"unknown or unwritten scenario {name!r} (have: {', '.join(SCENARIOS)})")
    peers = [p for p in peers if p in SCENARIO_PEERS[name]]
    if name != "accept":
        from . import extra_scenarios
        return extra_scenarios.run(name, peers, loads, workdir, progress, quick=quick,
                                   profile_dir=profile_dir, repeat=repeat)
    rows = []
    for index, load in enumerate(loads):
        for peer_name in peers:
            cls = PEERS[peer_name]
            why_not = cls.available()
            if why_not:
                progress(f"skipping {peer_name}: {why_not}\n")
                continue
            peer = cls(workdir / f"{name}-{index}-{peer_name}", sessions=load.sessions + PROBE_SESSIONS)
            try:
                row = run_one(peer, load, progress)
            except Exception as exc:  # one broken peer must not hide the others' numbers
                progress(f"{peer_name:10s} {load.label}: FAILED: {type(exc).__name__}: {exc}\n")
                rows.append({"scenario": name, "peer": peer_name, "size": load.size,
                             "sessions": load.sessions, "error": f"{type(exc).__name__}: {exc}"})
                continue
            finally:
                peer.cleanup()
            row["scenario"] = name
            rows.append(row)
            progress(f"{peer_name:10s} {load.label}: {row['received']} received, "
                     f"{row['msg_per_s']} msg/s, p99 {row['latency_ms']['p99']} ms\n")
    return rows

