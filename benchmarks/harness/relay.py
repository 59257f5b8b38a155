"""One relay run: smtp-source -> MTA -> smtp-sink, counted at the sink (relay, policy, slowdisk).

Who calls it: scenarios.py. ``run_relay(make_peer, load, progress)`` starts a fresh sink,
builds the peer pointed at it (``make_peer(sink_port)``), drives ``smtp-source -d`` plus a
2-session probe (probe.py, in its own process: probe_process.py), waits until the sink holds everything that was acknowledged
(or nothing new arrives for a while), samples the peer's CPU/RSS, stops both and returns
the result row (plus what ``before_stop(peer)`` read from the still-running peer).
msg/s = messages counted at the sink / (first byte sent -> last message seen at the sink).
It must never use the sender's count as the result, and must always stop the peer and
the sink (finally).
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Callable

from tests.helpers.inject import percentile
from tests.helpers.tools import find_tool

from . import procstat, profile, threadcpu
from .peers import Peer
from .probe_process import ProbeProcess
from .sink import Sink

PROBE_SESSIONS = 2


def _percentiles(values: list[float]) -> dict:
    out = {f"p{int(q * 100)}": (round(v * 1000, 2) if v is not None else None)
           for q in (0.5, 0.9, 0.99) for v in [percentile(values, q)]}
    out["max"] = round(values[-1] * 1000, 2) if values else None
    out["samples"] = len(values)
    return out


def run_relay(make_peer: Callable[[int], Peer], load, progress: Callable[[str], None],
              *, drain_stall: float = 20.0, profile_path: Path | None = None,
              before_stop: Callable[[Peer], dict] | None = None) -> dict:
    smtp_source = find_tool("smtp-source")
    if smtp_source is None:
        raise RuntimeError("smtp-source not found: apt-get install postfix")
    sink = Sink().start()
    peer = make_peer(sink.port)
    source = None
    probe = None
    profiler = None
    try:
        peer.start()
        if profile_path is not None and peer.name == "ecelerity":
            profiler = profile.start(peer.root_pid, profile_path)
        before = procstat.cpu_by_name(peer.processes(), peer.root_pid)
        hub_before = threadcpu.split_ns(peer.root_pid)
        sink_before = procstat.sample(sink.proc.pid)
        probe = ProbeProcess("127.0.0.1", peer.port, sessions=PROBE_SESSIONS, size=load.size)
        started = time.perf_counter()
        probe.start()
        source = subprocess.Popen([smtp_source, "-d", "-s", str(load.sessions), "-m", str(load.messages),
                                   "-l", str(load.size), "-f", "bench@example.org",
                                   "-t", "rcpt@example.com", f"127.0.0.1:{peer.port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while source.poll() is None:
            progress(f"{peer.name:10s} {load.label}: {time.perf_counter() - started:5.1f}s "
                     f"sink {sink.count()}")
            try:
                source.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
        injected = time.perf_counter() - started
        probe.stop()
        expected = (load.messages if source.returncode == 0 else 0) + len(probe.acked)
        counted, last_seen = sink.wait_for(
            expected, stall=drain_stall,
            progress=lambda t: progress(f"{peer.name:10s} {load.label}: draining, {t}"))
        elapsed = max(injected, last_seen - started)
        profile.stop(profiler)
        hub_after = threadcpu.split_ns(peer.root_pid)
        samples = peer.processes()
        after = procstat.cpu_by_name(samples, peer.root_pid)
        sink_after = procstat.sample(sink.proc.pid)
        source_error = source.stderr.read().decode(errors="replace").strip() if source.stderr else ""
        extra = before_stop(peer) if before_stop is not None else {}  # e.g. policy cpu counters
    finally:
        profile.stop(profiler)
        if probe is not None:
            probe.stop()  # idempotent; on an error path it ends the probe's process
        peer.stop()
        sink.stop()
    try:
        received = sink.count()
        arrivals = sink.probe_arrivals()
        left_in_queue = peer.received() if hasattr(peer, "base") else None
    finally:
        peer.cleanup()
        sink.cleanup()
    cpu = {name: max(0.0, sec - before.get(name, 0.0)) for name, sec in after.items()}
    per_k = 1000.0 / received if received else 0.0
    sink_cpu = (sink_after.cpu - sink_before.cpu) if sink_after and sink_before else 0.0
    return {
        "peer": peer.name, "size": load.size, "sessions": load.sessions,
        "sent_by_smtp_source": load.messages, "smtp_source_exit": source.returncode,
        "smtp_source_error": source_error[-500:], "probe_acked": len(probe.acked),
        "probe_errors": probe.errors[:5],
        "received": received, "received_at": "sink", "expected_at_sink": expected,
        "seconds": round(elapsed, 3), "injection_seconds": round(injected, 3),
        "msg_per_s": round(received / elapsed, 1) if elapsed else 0.0,
        "cpu_s_per_1000": {name: round(sec * per_k, 3) for name, sec in sorted(cpu.items()) if sec},
        "cpu_s_per_1000_total": round(sum(cpu.values()) * per_k, 3),
        "sink_cpu_s_per_1000": round(sink_cpu * per_k, 3),
        # the root process's main thread: with 1 worker, the hub where every hook runs
        # (with worker_processes > 1 the root is the supervisor: no hub figure)
        "hub_cpu_us_per_msg": round((hub_after[0] - hub_before[0]) / received / 1000.0, 2)
        if received and len(samples) == 1 else None,
        "peak_rss_kb_sum": sum(s.hwm_kb for s in samples),
        "peak_rss_kb_max": max((s.hwm_kb for s in samples), default=0),
        "processes": len(samples),
        "latency_ms": _percentiles(probe.eod_latencies()),
        "sink_latency_ms": _percentiles(arrivals),
        "left_in_queue": left_in_queue,
        # the sink must hold everything that was acknowledged
        "lost": max(0, expected - received),
    } | ({"profile": str(profile_path)} if profiler is not None else {}) | extra
