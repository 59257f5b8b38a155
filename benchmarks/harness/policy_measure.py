"""Every measure of the policy cost per message, side by side, on the same runs.

Run: ``.venv/bin/python -m benchmarks.harness.policy_measure [--rounds 6] [--messages 3000]
[--every 16] [--profile] [--tree DIR]``. Interleaves plain / sieve50 / lua5hooks relay runs
(2 KB x 20 sessions, a fixed number of messages) and prints, per variant and round:

* hub delta: CPU of the daemon's hub thread (/proc schedstat, ns) per message at the
  sink, minus the plain run's of the same round -- the marginal cost the policy adds
  to the thread that runs it (the issue's "on top of relay");
* process delta: the same with the whole process's CPU (adds the journal's fdatasync
  thread, which moves with batching, so it is noisier);
* hook timer: ``policy cpu`` (cpu_accounting.py, ECELERITY_POLICY_CPU=--every);
* py-spy (``--profile``): the hub thread's samples under the engine's hook frames
  (everything below HookRegistry.run -> the sieve/lua hook, whatever file), as a share
  of the hub's non-idle samples, times the hub's CPU per message.

Who calls it: a person settling which figure is right (README "Performance"); the
``policy`` scenario reports the same hub delta through policy_cost.py. It must never
be part of the test suite's pass/fail and must always stop what it starts (run_relay).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.harness import policy_cost
from benchmarks.harness.profile import hook_samples
from benchmarks.harness.extra_scenarios import POLICY_VARIANTS, _factory
from benchmarks.harness.peers import CODE_ROOT
from benchmarks.harness.relay import run_relay
from benchmarks.harness.scenarios import Load

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="policy_measure")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--every", type=int, default=16, help="ECELERITY_POLICY_CPU (0 = off)")
    parser.add_argument("--profile", action="store_true", help="py-spy each run (hub-only view)")
    parser.add_argument("--tree", help="the ecelerity source tree to run (default: this checkout)")
    parser.add_argument("--variants", default=",".join(POLICY_VARIANTS))
    args = parser.parse_args(argv)
    if args.tree:
        CODE_ROOT["path"] = Path(args.tree).resolve()
    load = Load(2048, args.sessions, args.messages)
    env = {"ECELERITY_POLICY_CPU": str(args.every)} if args.every else {}
    work = Path(tempfile.mkdtemp(prefix="ecpm-"))
    rows = []
    for round_no in range(args.rounds):
        for label in args.variants.split(","):
            conf, files = POLICY_VARIANTS[label]
            make = _factory("ecelerity", work / f"{round_no}-{label}", load.sessions,
                            conf_extra=conf, files=files, env_extra=env)
            prof = work / f"{round_no}-{label}.txt" if args.profile else None
            row = run_relay(make, load, lambda _t: None, profile_path=prof,
                            before_stop=lambda p: {"policy_cpu": policy_cost.read_policy_cpu(
                                p.control_address)})
            row["peer"], row["round"] = label, round_no
            if prof is not None and prof.exists():
                row["spy"] = hook_samples(prof)
            rows.append(row)
            spy = row.get("spy", {})
            print(f"r{round_no} {label:20s} rcvd {row['received']:5d} hub {row['hub_cpu_us_per_msg']:7.1f} "
                  f"proc {row['cpu_s_per_1000_total'] * 1000:7.1f} us/msg  timer "
                  f"{policy_cost.in_daemon_us(row)}  spy {spy}", flush=True)
    print()
    for line in report(rows):
        print(line)
    return 0


def report(rows: list[dict]) -> list[str]:
    plain = {r["round"]: r for r in rows if r["peer"] == policy_cost.PLAIN}
    out = ["| variant | rounds | hub delta us/msg | process delta us/msg | hook timer us/msg | "
           "py-spy hub share x hub CPU us/msg |", "|---|---:|---|---|---|---|"]
    for label, engine in policy_cost.ENGINE_OF_VARIANT.items():
        runs = [r for r in rows if r["peer"] == label]
        if not runs:
            continue
        hub = [r["hub_cpu_us_per_msg"] - plain[r["round"]]["hub_cpu_us_per_msg"]
               for r in runs if r["round"] in plain]
        proc = [(r["cpu_s_per_1000_total"] - plain[r["round"]]["cpu_s_per_1000_total"]) * 1000
                for r in runs if r["round"] in plain]
        timer = [x for x in (policy_cost.in_daemon_us(r) for r in runs) if x is not None]
        spy = [r["spy"].get(engine, 0) / r["spy"]["hub"] * r["hub_cpu_us_per_msg"]
               for r in runs if r.get("spy", {}).get("hub")]
        out.append(f"| {label} | {len(runs)} | {_spread(hub)} | {_spread(proc)} | {_spread(timer)} | "
                   f"{_spread(spy)} |")
    return out


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.1f} ({min(values):.1f} .. {max(values):.1f})"


if __name__ == "__main__":
    sys.exit(main())
