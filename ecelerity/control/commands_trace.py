"""Console commands ``trace smtp <ip|cidr> [file]``, ``trace smtp off [ip|cidr]`` and
``trace smtp`` (list): record the SMTP conversations of peers to a file.

Who calls it: the command registry (``register_trace_commands``). The traces live in
smtp/trace.py's process-wide REGISTRY, which every new SMTP session consults. The file
defaults to ``trace_smtp.<ip>.log`` next to the paniclog; its mode is ``trace_smtp_mode``.
Never reads or writes mail; a trace only affects sessions that start after it.
"""
from __future__ import annotations

import os
from typing import Any

from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


def _rows(traces: list[Any]) -> list[dict[str, Any]]:
    return [t.describe() for t in traces]


def _render(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["no SMTP traces active"]
    return [f"{r['target']} -> {r['file']}: {r['sessions']} session(s), {r['lines']} line(s)"
            + (f" (stopped: {r['error']})" if r["error"] else "") for r in rows]


def default_file(app: Any, target: str) -> str:
    panic = getattr(getattr(app, "paniclog", None), "path", "") or "./var/log/paniclog.ec"
    return os.path.join(os.path.dirname(os.path.abspath(panic)),
                        f"trace_smtp.{target.replace('/', '_').replace(':', '_')}.log")


def _mode(app: Any) -> int:
    try:
        return int(app.config.get("trace_smtp_mode"))
    except (KeyError, TypeError, ValueError, AttributeError):
        return 0o640


def cmd_trace_smtp(ctx: CommandContext) -> CommandResult:
    from ecelerity.smtp.trace import REGISTRY, TraceError

    args = ctx.args
    if not args:
        return CommandResult(_rows(REGISTRY.traces()), _render)
    if args[0].lower() == "off":
        if len(args) > 2:
            raise CommandError(400, f"usage: {ctx.command.usage}")
        ended = REGISTRY.stop(args[1] if len(args) == 2 else None)
        if len(args) == 2 and not ended:
            raise CommandError(404, f"trace smtp: no trace of {args[1]} is active")
        return CommandResult(_rows(ended), lambda rows: [f"{len(rows)} trace(s) stopped"]
                             + (_render(rows) if rows else []))
    if len(args) > 2:
        raise CommandError(400, f"usage: {ctx.command.usage}")
    target = args[0]
    path = args[1] if len(args) == 2 else default_file(ctx.app, target)
    try:
        trace = REGISTRY.start(target, path, mode=_mode(ctx.app))
    except TraceError as exc:
        raise CommandError(400, f"trace smtp: {exc}") from None
    return CommandResult(trace.describe(), lambda d: f"tracing SMTP sessions from {d['target']} to {d['file']}")


def register_trace_commands(registry: CommandRegistry) -> None:
    registry.register("trace smtp", cmd_trace_smtp, "trace smtp transactions",
                      usage="trace smtp [<ip|cidr> [file] | off [<ip|cidr>]]", replace=True)
