"""What the policy CPU accounting itself costs per hook (cpu_accounting.py), by hand.

Run: ``.venv/bin/python -m benchmarks.harness.accounting_overhead [--every 1,8,16]``.
Runs a registry of five empty Lua-tagged hooks through phases.HookRegistry.run with
the accounting off and with each sampling period, best of 7 rounds of thread CPU, and
prints ns per hook above "off". Who calls it: a person checking the ~0.3 us budget.
Never starts a daemon or touches the network.
"""
from __future__ import annotations

import argparse
import time

from ecelerity.policy import cpu_accounting, phases
from ecelerity.policy.vctx import ValidationContext


def per_hook_ns(every: int, rounds: int = 20000, hooks: int = 5) -> float:
    cpu_accounting.ACCOUNTING = cpu_accounting.PolicyCpu(every) if every else None
    reg = phases.HookRegistry()
    for i in range(hooks):
        reg.register("data", lambda v, m: None, priority=phases.PRIORITY_LUA, name=f"scriptlet:h{i}")
    vctx = ValidationContext()
    best = float("inf")
    for _ in range(7):
        start = time.thread_time_ns()
        for _ in range(rounds):
            reg.run("data", vctx, None)
        best = min(best, (time.thread_time_ns() - start) / rounds / hooks)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(prog="accounting_overhead")
    parser.add_argument("--every", default="1,4,8,16", help="sampling periods to measure")
    args = parser.parse_args()
    saved = cpu_accounting.ACCOUNTING
    try:
        off = per_hook_ns(0)
        print(f"accounting off: {off:.0f} ns per (empty) hook dispatch")
        for every in (int(x) for x in args.every.split(",")):
            print(f"every {every:>3}: +{per_hook_ns(every) - off:.0f} ns per hook")
        print(f"clock bias (empty timed region): {cpu_accounting.PolicyCpu(1).bias_ns} ns")
    finally:
        cpu_accounting.ACCOUNTING = saved


if __name__ == "__main__":
    main()
