"""Policy CPU accounting: thread CPU time spent inside the Sieve++ and Lua hooks.

Who calls it: policy/phases.py (HookRegistry.register tags each hook with its engine
through ``engine_of`` and ``track``s it; HookRegistry.run counts each call on the hook's
meter and hands the sampled ones to ``ACCOUNTING.timed``) and control/commands_policy.py
(``policy cpu`` reads ``snapshot()``). The benchmark
harness switches it on with the environment variable ``ECELERITY_POLICY_CPU``, read
once at import: unset, empty or ``0`` = off (then ``ACCOUNTING`` is None and the hook
path pays one ``is None`` test per hook); ``1`` = time every dispatch; ``N`` > 1 = time
one call in N of each hook, at random gaps (1 .. 2N-1 calls, so the sample cannot alias
with a pattern in the traffic), and scale. The first call of a hook (script compile,
JIT warm-up) is never timed: the figure is the steady state (``time.thread_time_ns`` is a system call, here
~0.6-0.8 us each: timing every call adds ~1.7 us a hook, every 16th ~0.2 us; measure
with ``python -m benchmarks.harness.accounting_overhead``).

Checked against the other measures (2026-11-22, benchmarks/harness/policy_cost.py): timing
every call and every 16th give the same per-message figure, no timed hook switched
greenlets, and in a tight loop it reproduces the loop's own CPU delta; in the daemon it is
higher because the hooks run cache-cold there (a real cost of the hooks, not a bias).

What it measures: ``time.thread_time_ns()`` around the hook call, minus the measured
cost of an empty timed region (``bias_ns``), so it includes everything the hook does
(proxies, header parsing, edits) and nothing else the daemon does meanwhile. A hook
that blocks on I/O under gevent lets other greenlets run on the same thread; their CPU
would be counted too, which is why the figure is for CPU-only policies (the benchmark's).
Counters are per process (each worker has its own). It must never change a hook's
result, swallow its exception, or do I/O.
"""
from __future__ import annotations

import os
import random
import time
from typing import Any

ENV_VAR = "ECELERITY_POLICY_CPU"
ENGINES = {"sieve": "sieve", "scriptlet": "lua"}  # module name (hook-name prefix) -> engine


def engine_of(hook_name: str) -> str | None:
    """The engine a hook belongs to, from the name its module registered it under."""
    return ENGINES.get(hook_name.split(":", 1)[0])


def _bias_ns(rounds: int = 2001) -> int:
    """Median thread CPU time of an empty timed region: what one reading pair adds."""
    clock = time.thread_time_ns
    samples = []
    for _ in range(rounds):
        t0 = clock()
        samples.append(clock() - t0)
    samples.sort()
    return samples[len(samples) // 2]


class PolicyCpu:
    """Sampled thread CPU of the tracked hooks, summed per engine on request.

    Each hook carries its own meter (phases.RegisteredHook.meter: calls, timed calls,
    timed ns, next call number to time); HookRegistry.run counts every call and hands
    the chosen ones to ``timed``, which picks the next at a random gap averaging
    ``sample_every``. Per hook, so sampling never aliases with the number of hooks a
    message passes through."""

    def __init__(self, sample_every: int = 1) -> None:
        self.sample_every = max(1, int(sample_every))
        self.bias_ns = _bias_ns()
        self._hooks: dict[int, Any] = {}  # seq -> RegisteredHook (kept after unregistration)
        self._gap = random.Random().randint  # its own generator: never reseeds scripts' random

    def track(self, hook: Any) -> None:
        """Count this hook in the per-engine totals (phases.HookRegistry.register)."""
        self._hooks[hook.seq] = hook
        hook.meter[3] = hook.meter[0] + 1 + self._gap(1, 2 * self.sample_every - 1)

    def timed(self, hook: Any, vctx: Any, args: tuple) -> Any:
        """Call ``hook.func(vctx, *args)`` and add its thread CPU time to the hook's meter."""
        meter = hook.meter
        clock = time.thread_time_ns
        t0 = clock()
        try:
            return hook.func(vctx, *args)
        finally:
            meter[2] += max(0, clock() - t0 - self.bias_ns)
            meter[1] += 1
            meter[3] = meter[0] + self._gap(1, 2 * self.sample_every - 1)

    def snapshot(self) -> dict[str, Any]:
        """Totals per engine (calls, timed calls, timed ns, estimated total ns) and the
        same per hook (``hooks``: which phase's hook the engine's time is spent in)."""
        engines: dict[str, dict[str, int]] = {}
        hooks = []
        for hook in list(self._hooks.values()):
            calls, sampled, ns, _ = hook.meter
            estimate = round(ns * calls / sampled) if sampled else 0
            tot = engines.setdefault(hook.engine, {"calls": 0, "sampled_calls": 0,
                                                   "sampled_ns": 0, "ns": 0})
            tot["calls"] += calls
            tot["sampled_calls"] += sampled
            tot["sampled_ns"] += ns
            tot["ns"] += estimate
            if calls:
                hooks.append({"engine": hook.engine, "phase": hook.phase, "name": hook.name,
                              "calls": calls, "sampled_calls": sampled, "ns": estimate})
        return {"enabled": True, "sample_every": self.sample_every, "bias_ns": self.bias_ns,
                "engines": {k: v for k, v in engines.items() if v["calls"]}, "hooks": hooks}

    def reset(self) -> None:
        for hook in list(self._hooks.values()):
            hook.meter[:] = [0, 0, 0, 1 << 62]
            self.track(hook)


def from_environment(environ: Any = os.environ) -> PolicyCpu | None:
    """A PolicyCpu when ``ECELERITY_POLICY_CPU`` asks for one, else None."""
    raw = str(environ.get(ENV_VAR, "") or "").strip()
    try:
        every = int(raw) if raw else 0
    except ValueError:
        every = 1  # any other non-empty word ("yes", "on") means: time every call
    return PolicyCpu(every) if every > 0 else None


ACCOUNTING: PolicyCpu | None = from_environment()


def snapshot() -> dict[str, Any]:
    """What ``policy cpu`` shows; ``enabled`` False when the accounting is off."""
    if ACCOUNTING is None:
        return {"enabled": False, "sample_every": 0, "bias_ns": 0, "engines": {}}
    return ACCOUNTING.snapshot()
