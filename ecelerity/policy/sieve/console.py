"""Console commands of a sieve instance: ``sieve:<inst> stats|reset|flush cache|test|testfile``.

Registered by modules/sieve.py through the module context (so they go away when
the module unloads). ``stats`` prints Momentum-style counter lines
(``rcptto_phase1:blacklist (5xx) = 3``); ``reset`` zeroes them; ``flush cache``
empties the compiled-script cache (``flushed N entries from the script cache``);
``test <phase> <message.eml> [mailfrom] [rcptto]`` runs the instance's scripts of
that phase over a message file and ``testfile <script> <message.eml> [phase]
[mailfrom] [rcptto]`` runs any script file -- both with a detached context (no
tarpit sleeps, no effect on live sessions). Refusals are CommandError, never a traceback.
"""
from __future__ import annotations

from typing import Any

from ...control.registry import CommandError, CommandResult
from ..vctx import ValidationContext
from .errors import SieveCompileError
from .host import PolicyHost
from .message_view import MessageView
from .phase_runner import PhaseScripts, run_phase

TEST_PHASES = ("accept", "connect", "ehlo", "mailfrom", "rcptto", "data", "spool", "each_rcpt",
               "set_binding")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(400, f"cannot read {path}: {exc.strerror}") from None


def _run(inst: Any, scripts: PhaseScripts, raw: bytes, mailfrom: str, rcptto: str,
         config: Any) -> CommandResult:
    host = PolicyHost(ValidationContext(can_tarpit=False), phase=scripts.phase, config=config,
                      mail_from=mailfrom, can_sleep=False, throttles=None)
    view = MessageView(raw, mailfrom, rcptto)
    result = run_phase(scripts, host, view, runtime_error=inst.runtime_error)
    data = {"phase": scripts.phase, "actions": result.actions, "errors": result.errors,
            "reply": (f"{result.reply[0]} {result.reply[1]}" if result.reply else None),
            "disconnect": result.disconnect, "notes": host.notes,
            "header_edits": [[e.mode, e.name, e.value] for e in host.vctx.header_edits],
            "binding": host.vctx.binding}

    def render(d: dict) -> list[str]:
        lines = [f"phase: {d['phase']}", f"reply: {d['reply'] or '(no opinion: accepted)'}"]
        lines += [f"error: {e}" for e in d["errors"]]
        lines += [f"action: {a}" for a in d["actions"]]
        lines += [f"header: {m} {n}: {v}" for m, n, v in d["header_edits"]]
        lines += [f"note: {n}" for n in d["notes"]]
        if d["binding"]:
            lines.append(f"binding: {d['binding']}")
        return lines
    return CommandResult(data, render)


def register_commands(ctx: Any, inst: Any) -> None:
    prefix = f"sieve:{inst.name}"

    def stats(cmd: Any) -> CommandResult:
        items = inst.counters.items()
        return CommandResult(dict(items), lambda d: [f"{k} = {v}" for k, v in d.items()] or ["no counters"])

    def reset(cmd: Any) -> str:
        inst.counters.reset()
        return "counters reset"

    def flush(cmd: Any) -> str:
        return f"flushed {inst.cache.flush()} entries from the script cache"

    def test(cmd: Any) -> CommandResult:
        if len(cmd.args) < 2 or cmd.args[0].lower() not in TEST_PHASES:
            raise CommandError(400, f"usage: {prefix} test <{'|'.join(TEST_PHASES)}> MESSAGE "
                                    "[MAILFROM] [RCPTTO]")
        phase = cmd.args[0].lower()
        scripts = inst.scripts.get(phase) or PhaseScripts(phase)
        extra = cmd.args[2:] + ["", ""]
        return _run(inst, scripts, _read(cmd.args[1]), extra[0], extra[1], ctx.config)

    def testfile(cmd: Any) -> CommandResult:
        if len(cmd.args) < 2:
            raise CommandError(400, f"usage: {prefix} testfile SCRIPT MESSAGE [PHASE] [MAILFROM] [RCPTTO]")
        phase = cmd.args[2].lower() if len(cmd.args) > 2 else "data"
        if phase not in TEST_PHASES:
            raise CommandError(400, f"unknown phase '{phase}' (one of {', '.join(TEST_PHASES)})")
        try:
            compiled = inst.cache.get(_read(cmd.args[0]).decode("utf-8", "replace"), cmd.args[0])
        except SieveCompileError as exc:
            raise CommandError(400, f"compile error: {exc}") from None
        extra = cmd.args[3:] + ["", ""]
        return _run(inst, PhaseScripts(phase, compiled), _read(cmd.args[1]), extra[0], extra[1], ctx.config)

    ctx.register_command(f"{prefix} stats", stats, "Sieve counters of this instance")
    ctx.register_command(f"{prefix} reset", reset, "zero the Sieve counters of this instance")
    ctx.register_command(f"{prefix} flush cache", flush, "empty the compiled-script cache")
    ctx.register_command(f"{prefix} test", test, "run this instance's scripts of a phase over a message",
                         usage=f"{prefix} test PHASE MESSAGE [MAILFROM] [RCPTTO]")
    ctx.register_command(f"{prefix} testfile", testfile, "run a script file over a message",
                         usage=f"{prefix} testfile SCRIPT MESSAGE [PHASE] [MAILFROM] [RCPTTO]")
