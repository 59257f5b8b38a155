"""Console command ``policy cpu [reset]``: thread CPU spent inside Sieve++ / Lua hooks.

Who calls it: the command registry (``register_policy_commands``); the benchmark harness
reads ``policy cpu --json`` at the end of a policy run. The figures come from
policy/cpu_accounting.py, which is on only when the daemon was started with
ECELERITY_POLICY_CPU set (else the command says so). Counters are per process.
Never touches mail or configuration.
"""
from __future__ import annotations

from typing import Any

from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


def _render(data: dict[str, Any]) -> list[str]:
    if not data["enabled"]:
        return ["policy CPU accounting is off (start the daemon with ECELERITY_POLICY_CPU=1)"]
    lines = [f"policy CPU accounting: every {data['sample_every']} call(s) of each hook timed, "
             f"{data['bias_ns']} ns clock bias subtracted"]
    if not data["engines"]:
        lines.append("no Sieve++ or Lua hook has run")
    for engine, tot in sorted(data["engines"].items()):
        per_call = tot["ns"] / tot["calls"] / 1000 if tot["calls"] else 0.0
        lines.append(f"{engine}: {tot['calls']} call(s), {tot['ns'] / 1e9:.6f} s CPU "
                     f"({per_call:.2f} us/call; {tot['sampled_calls']} timed)")
        for hook in data.get("hooks", ()):
            if hook["engine"] == engine:
                lines.append(f"  {hook['phase']} {hook['name']}: {hook['calls']} call(s), "
                             f"{hook['ns'] / hook['calls'] / 1000:.2f} us/call")
    return lines


def cmd_policy_cpu(ctx: CommandContext) -> CommandResult:
    from ecelerity.policy import cpu_accounting

    if len(ctx.args) > 1 or (ctx.args and ctx.args[0].lower() != "reset"):
        raise CommandError(400, f"usage: {ctx.command.usage}")
    data = cpu_accounting.snapshot()
    if ctx.args and cpu_accounting.ACCOUNTING is not None:
        cpu_accounting.ACCOUNTING.reset()
    return CommandResult(data, _render)


def register_policy_commands(registry: CommandRegistry) -> None:
    registry.register("policy cpu", cmd_policy_cpu,
                      "thread CPU spent in Sieve++ / Lua hooks (ECELERITY_POLICY_CPU)",
                      usage="policy cpu [reset]", replace=True)
