"""``antivirus:<instance> stats`` and ``antivirus:<instance> version`` console commands.

Registered by modules/antivirus.py through its ModuleContext (removed at unload).
``stats`` shows Momentum's per-engine counters (messages, MIME parts, viruses,
average times), ``version`` asks each engine's clamd (``VERSION``, bounded by the
engine timeout; a down clamd is reported, never raised). Never changes an engine.
"""
from __future__ import annotations

from typing import Any

from ..control.registry import CommandResult


def _average_ms(total: float, count: int) -> str:
    return f"{total * 1000 / count:.3f}ms" if count else "nanms"


def stats_data(engines: list[Any]) -> dict[str, dict[str, Any]]:
    return {engine.name: {"messages": engine.stats.messages, "parts": engine.stats.parts,
                          "viruses": engine.stats.viruses, "errors": engine.stats.errors,
                          "avg_message": _average_ms(engine.stats.message_seconds, engine.stats.messages),
                          "avg_part": _average_ms(engine.stats.part_seconds, engine.stats.parts)}
            for engine in engines}


def _render_stats(data: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for name, row in data.items():
        lines += [name, f"  Messages checked:   {row['messages']}",
                  f"  MIME parts checked: {row['parts']}", f"  Viruses detected:   {row['viruses']}",
                  f"  Scan errors:        {row['errors']}", f"  Avg. time/message   {row['avg_message']}",
                  f"  Avg. time/MIME part {row['avg_part']}"]
    return lines


def register_commands(ctx: Any, instance_name: str, engines: list[Any]) -> None:
    prefix = f"antivirus:{instance_name}"

    def stats(cmd: Any) -> CommandResult:
        return CommandResult(stats_data(engines), _render_stats)

    def version(cmd: Any) -> CommandResult:
        data = {engine.name: engine.version() for engine in engines}
        return CommandResult(data, lambda d: [f"{name}: {text}" for name, text in d.items()])
    ctx.register_command(f"{prefix} stats", stats, "antivirus engine counters")
    ctx.register_command(f"{prefix} version", version, "each engine's scanner and signature version")
