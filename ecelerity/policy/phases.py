"""Validation phases: the hook registry and the phase runner.

Phases, in the order an SMTP message meets them::

    connect -> ehlo -> auth -> mailfrom -> rcptto (each recipient) -> rcptto_list
            -> data -> data_spool -> data_spool_each_rcpt (each recipient) -> set_binding

Hook arguments per phase (after the vctx):
    connect: ()                     ehlo: (ehlo_string,)        auth: (user,)
    mailfrom: (mailfrom_string,)    rcptto: (rcptto_string, recipient)
    rcptto_list: (recipients,)      (list of Recipient, at DATA / the first BDAT chunk,
                                    before 354; a 4xx/5xx code there refuses the message)
    data: (message,)                data_spool: (message,)
    data_spool_each_rcpt: (message, recipient)                  set_binding: (message,)
``message`` is smtp.session.InboundMessage (envelope + header block + body).
``data`` runs once the body is in, before the trace headers are added;
``data_spool`` sees the message as it will be spooled.

Order inside a phase is fixed: the session's built-in checks (relay, limits,
syntax) run first, before this registry; then hooks by priority number --
CORE (100), MODULE (200), SIEVE (300), LUA (400) -- and, for equal priority, in
registration order. A hook returns CONTINUE (or None) to let the next hook run,
or DONE to end the phase, normally after ``vctx.set_code(...)``. A hook that
raises is logged and turns into ``451 4.3.0`` (never a traceback to the client).

Who registers: the core, loadable modules (modules/), and later Sieve++ and Lua.
Sieve++ and Lua hooks are tagged with their engine; when ECELERITY_POLICY_CPU is set,
their dispatch goes through cpu_accounting.py (thread CPU per engine, ``policy cpu``).
This module never does I/O and never reads configuration.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from ..smtp.replies import LOCAL_ERROR, Reply
from . import cpu_accounting
from .vctx import ValidationContext

log = logging.getLogger("ecelerity.policy")

PHASES = ("connect", "ehlo", "auth", "mailfrom", "rcptto", "rcptto_list", "data", "data_spool",
          "data_spool_each_rcpt", "set_binding")

CONTINUE = 0
DONE = 1

PRIORITY_CORE = 100
PRIORITY_MODULE = 200
PRIORITY_SIEVE = 300
PRIORITY_LUA = 400

Hook = Callable[..., Any]


@dataclass(frozen=True)
class RegisteredHook:
    phase: str
    priority: int
    seq: int
    name: str
    func: Hook
    engine: str | None = None  # "sieve" / "lua": its CPU is accounted (cpu_accounting.py)
    # [calls, timed calls, timed ns, call number to time next] while the accounting is on
    # (cpu_accounting.PolicyCpu.track sets the last); mutable, never compared
    meter: list[int] = field(default_factory=lambda: [0, 0, 0, 1 << 62], compare=False, repr=False)


@dataclass(slots=True)
class PhaseResult:
    """What a phase decided. ``reply`` is None when no hook set a code."""

    done: bool = False
    reply: Reply | None = None
    disconnect: Reply | None = None

    @property
    def rejected(self) -> bool:
        return self.reply is not None and self.reply.code >= 400


class HookRegistry:
    """Hooks per phase, kept sorted by (priority, registration order)."""

    def __init__(self) -> None:
        # each chain is an immutable tuple, replaced on (un)registration: run() walks it
        # without a copy and a reload changing the chain mid-run cannot disturb it
        self._hooks: dict[str, tuple[RegisteredHook, ...]] = {p: () for p in PHASES}
        self._seq = 0

    def register(self, phase: str, func: Hook, *, priority: int = PRIORITY_MODULE,
                 name: str | None = None) -> RegisteredHook:
        if phase not in self._hooks:
            raise ValueError(f"unknown validation phase {phase!r}; phases are {', '.join(PHASES)}")
        self._seq += 1
        name = name or getattr(func, "__qualname__", "hook")
        hook = RegisteredHook(phase, priority, self._seq, name, func, cpu_accounting.engine_of(name))
        if hook.engine is not None and cpu_accounting.ACCOUNTING is not None:
            cpu_accounting.ACCOUNTING.track(hook)
        self._hooks[phase] = tuple(sorted(self._hooks[phase] + (hook,),
                                          key=lambda h: (h.priority, h.seq)))
        return hook

    def unregister(self, hook: RegisteredHook) -> None:
        chain = self._hooks.get(hook.phase, ())
        if hook in chain:
            self._hooks[hook.phase] = tuple(h for h in chain if h is not hook)

    def hooks(self, phase: str) -> list[RegisteredHook]:
        return list(self._hooks[phase])

    def has_hooks(self, phase: str) -> bool:
        return bool(self._hooks[phase])

    def run(self, phase: str, vctx: ValidationContext, *args: Any) -> PhaseResult:
        """Run the phase's hooks in order; stop at DONE, a disconnect or a failing hook."""
        chain = self._hooks[phase]  # a tuple: a reload replaces it, never mutates it
        if not chain:  # most phases of most messages: only the code the session's checks set
            return PhaseResult(False, vctx.take_code() if vctx.code is not None else None)
        accounting = cpu_accounting.ACCOUNTING  # None unless ECELERITY_POLICY_CPU asks
        done = False
        for hook in chain:
            try:
                if accounting is None or hook.engine is None:
                    verdict = hook.func(vctx, *args)
                else:
                    # inlined: the untimed calls must stay ~0.1 us (cpu_accounting.py)
                    meter = hook.meter
                    meter[0] += 1
                    if meter[0] < meter[3]:
                        verdict = hook.func(vctx, *args)
                    else:
                        verdict = accounting.timed(hook, vctx, args)
            except Exception:  # noqa: BLE001 - a policy bug must not kill the session
                log.exception("validation hook %s failed in phase %s", hook.name, phase)
                vctx.code = None
                return PhaseResult(True, LOCAL_ERROR)
            if vctx.disconnect_reply is not None:
                return PhaseResult(True, vctx.take_code() or vctx.disconnect_reply,
                                   vctx.disconnect_reply)
            if verdict is not None and verdict != CONTINUE:
                if verdict == DONE:
                    done = True
                    break
                log.error("validation hook %s returned %r in phase %s; treated as CONTINUE",
                          hook.name, verdict, phase)
        return PhaseResult(done, vctx.take_code() if vctx.code is not None else None)
