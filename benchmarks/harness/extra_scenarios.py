"""The issue-9 scenarios beyond ``accept``: relay, policy, slowdisk, idle, fanout.

Who calls it: scenarios.run_scenario. Builds each peer variant (plain relay, Sieve++ /
Lua policy, fsync-delay shim) and hands it to relay.py / idle.py / fanout.py (policy:
``repeat`` interleaved rounds, each run's in-daemon policy CPU read, policy_cost.py); one
failing run becomes an ``error`` row and never hides the others' numbers. Rows carry
``peer`` = the variant label the report shows. It must never leave a peer running
(the runners stop them) nor keep the shim after the run.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from benchmarks.lua_policy_cost import POLICY as LUA_POLICY
from benchmarks.sieve_cost import make_script

from . import policy_cost, slow_fsync
from .fanout import run_fanout
from .idle import run_idle
from .peers import PEERS
from .relay import PROBE_SESSIONS, run_relay

SIEVE_CONF = """
sieve "sieve1" {
  runtime_error = fail
  script data_phase1 { source = "policy.siv" }
}
"""
LUA_CONF = """
scriptlet "scriptlet" {
  script "typical" { source = "typical" }
}
"""
POLICY_VARIANTS = {
    "ecelerity": ("", {}),
    "ecelerity+sieve50": (SIEVE_CONF, {"policy.siv": make_script(50)}),
    "ecelerity+lua5hooks": (LUA_CONF, {"typical.lua": LUA_POLICY}),
}
FANOUT_CONF = 'relay_hosts = ( "127.0.0.0/8" )\n'


def _label(size: int, sessions: int) -> str:
    return f"{size // 1024} KB x {sessions}" if size >= 1024 else f"{size} B x {sessions}"


def _guarded(rows: list[dict], name: str, label: str, size: int, sessions: int,
             progress: Callable[[str], None], run: Callable[[], dict]) -> None:
    try:
        row = run()
    except Exception as exc:  # one broken peer must not hide the others' numbers
        progress(f"{label:20s} {_label(size, sessions)}: FAILED: {type(exc).__name__}: {exc}\n")
        rows.append({"scenario": name, "peer": label, "size": size, "sessions": sessions,
                     "error": f"{type(exc).__name__}: {exc}"})
        return
    row["scenario"], row["peer"] = name, label
    rows.append(row)
    summary = (f"{row['rss_per_session_kb']} KB/session" if name == "idle" else
               f"{row['received_recipients']} rcpts in {row['seconds_to_deliver_all']}s, "
               f"{row['connections']} connections" if name == "fanout" else
               f"{row['received']} at sink, {row['msg_per_s']} msg/s, p99 {row['latency_ms']['p99']} ms")
    progress(f"{label:20s} {_label(size, sessions)}: {summary}\n")


def _factory(peer_name: str, workdir: Path, sessions: int, **kwargs):
    cls = PEERS[peer_name]
    return lambda sink_port: cls(workdir, sessions=sessions + PROBE_SESSIONS, sink_port=sink_port, **kwargs)


def _profile_path(profile_dir: Path | None, name: str, label: str, load) -> Path | None:
    if profile_dir is None:
        return None
    profile_dir.mkdir(parents=True, exist_ok=True)
    slug = label.replace(" ", "").replace("+", "-")
    return profile_dir / f"{name}-{slug}-{load.size // 1024}k-{load.sessions}.txt"


def _policy_cpu(peer) -> dict:
    """The daemon's ``policy cpu`` counters, read before it stops (None: not available)."""
    return {"policy_cpu": policy_cost.read_policy_cpu(peer.control_address)}


def run(name: str, peers: list[str], loads: list, workdir: Path, progress: Callable[[str], None],
        *, quick: bool, profile_dir: Path | None = None, repeat: int = 3) -> list[dict]:
    from .scenarios import FANOUT, IDLE_SESSIONS, POLICY_LOADS, SLOWDISK_LOADS

    rows: list[dict] = []
    available = []
    for peer_name in peers:
        why_not = PEERS[peer_name].available()
        if why_not:
            progress(f"skipping {peer_name}: {why_not}\n")
        else:
            available.append(peer_name)

    if name == "relay":
        for index, load in enumerate(loads):
            for peer_name in available:
                make = _factory(peer_name, workdir / f"relay-{index}-{peer_name}", load.sessions)
                prof = _profile_path(profile_dir, name, peer_name, load)
                _guarded(rows, name, peer_name, load.size, load.sessions, progress,
                         lambda make=make, load=load, prof=prof: run_relay(make, load, progress,
                                                                           profile_path=prof))
    elif name == "policy":
        # rounds interleave the variants (plain, sieve, lua, plain, ...) so slow drift of
        # the machine hits every variant alike; each run reads the daemon's policy CPU
        for index, load in enumerate(POLICY_LOADS[quick]):
            if "ecelerity" not in available:
                break
            for round_no in range(max(1, repeat)):
                for label, (conf, files) in POLICY_VARIANTS.items():
                    make = _factory("ecelerity", workdir / f"policy-{index}-{round_no}-{label}",
                                    load.sessions, conf_extra=conf, files=files,
                                    env_extra=policy_cost.ENV)
                    prof = _profile_path(profile_dir, name, f"{label}-r{round_no}", load)
                    _guarded(rows, name, label, load.size, load.sessions, progress,
                             lambda make=make, load=load, prof=prof: run_relay(
                                 make, load, progress, profile_path=prof, before_stop=_policy_cpu))
                    rows[-1]["round"] = round_no
    elif name == "slowdisk":
        so = slow_fsync.build_shim(2000)
        try:
            shim_ms = slow_fsync.measure_fsync_ms(so)
            plain_ms = slow_fsync.measure_fsync_ms(None)
            method = f"LD_PRELOAD fsync shim ({slow_fsync.dm_unavailable()})"
            progress(f"slowdisk: {method}; fsync {plain_ms} ms plain, {shim_ms} ms with the shim\n")
            for index, load in enumerate(SLOWDISK_LOADS[quick]):
                for peer_name in available:
                    for slow in (False, True):
                        env = {"LD_PRELOAD": str(so)} if slow else {}
                        label = f"{peer_name}{' +2ms fsync' if slow else ''}"
                        make = _factory(peer_name, workdir / f"slow-{index}-{peer_name}-{slow}",
                                        load.sessions, env_extra=env)
                        _guarded(rows, name, label, load.size, load.sessions, progress,
                                 lambda make=make, load=load: run_relay(make, load, progress))
                        if rows and "error" not in rows[-1]:
                            rows[-1].update(slowdisk_method=method, fsync_ms_plain=plain_ms,
                                            fsync_ms_shim=shim_ms, slow_fsync=slow)
        finally:
            shutil.rmtree(so.parent, ignore_errors=True)
    elif name == "idle":
        sessions = IDLE_SESSIONS[quick]
        for peer_name in available:
            peer = PEERS[peer_name](workdir / f"idle-{peer_name}", sessions=sessions)
            _guarded(rows, name, peer_name, 0, sessions, progress,
                     lambda peer=peer: run_idle(peer, sessions, progress))
    elif name == "fanout":
        recipients, domains = FANOUT[quick]
        for peer_name in available:
            extra = {"conf_extra": FANOUT_CONF} if peer_name == "ecelerity" else {}
            make = _factory(peer_name, workdir / f"fanout-{peer_name}", 1, **extra)
            _guarded(rows, name, peer_name, 0, 1, progress,
                     lambda make=make: run_fanout(make, recipients, domains, progress))
    return rows

