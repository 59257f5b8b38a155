"""The ``sieve "instance" { ... }`` module: Sieve++ scripts in the validation phases.

Stanza (Momentum §4.1)::

    sieve "sieve1" {
      cache_size = 200  cache_life = 260  runtime_error = fail   # or continue
      reject_mode = mdn            # or 550: reject after DATA sends a notice, or 550
      script mailfrom_phase1 { source = "/path/to/script.siv" }
      hook "core_log_permanent_failure_v1" { source = "/path/x.siv"  async = false }
    }

``load(ctx)`` compiles every ``script <phase>_phase1|2`` (a compile error names
file:line:col and the module does not load: the daemon keeps serving without it),
registers one hook per phase at PRIORITY_SIEVE, two last-priority hooks feeding the
audit series (policy/audit.py: connections, receptions), the ``hook`` stanzas
(policy/sieve/hooks.py: the queue's delivery outcomes; other hook names are
reported to the paniclog and ignored) and the ``sieve:<inst> stats|reset|flush
cache|test|testfile`` console commands. Script files are re-read after
``cache_life`` seconds (0: only on reload). Importing this file only defines MODULE.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ecelerity.config.types import INTEGER, SECONDS, EnumType
from ecelerity.modules import ModuleSpec, module_option

SCRIPT_PHASES = ("accept", "connect", "ehlo", "mailfrom", "rcptto", "data", "spool", "each_rcpt",
                 "set_binding")


class SieveConfigError(Exception):
    """A script/hook stanza that cannot be used; the message starts with file:line:col."""


@dataclass
class SieveInstance:
    """One loaded sieve instance: compiled scripts per phase, counters, throttles."""

    name: str
    runtime_error: str
    scripts: dict[str, Any] = field(default_factory=dict)      # phase -> PhaseScripts
    sources: dict[str, str] = field(default_factory=dict)      # "<phase>_phaseN" -> path
    counters: Any = None
    throttles: Any = None
    cache: Any = None
    reject_mode: str = "mdn"
    audit: Any = None                 # policy.audit.SeriesStore shared with Lua
    shared_throttles: Any = None      # ec_shared_throttle_*: one per daemon
    hooks: list[Any] = field(default_factory=list)


def _setting(child: Any, *keys: str) -> tuple[str, Any] | None:
    for setting in child.settings:
        if setting.key.lower() in keys:
            return getattr(setting.value, "text", ""), setting.loc
    return None


def _stanza_source(child: Any) -> tuple[str, Any]:
    found = _setting(child, "source", "script")
    if found is not None:
        return found
    raise SieveConfigError(f"{child.loc}: '{child.spelling} {child.name}' needs source = \"path\"")


def _resolve(path: str, loc: Any) -> str:
    if os.path.isabs(path) or os.path.exists(path):
        return path
    return os.path.join(os.path.dirname(str(getattr(loc, "file", "")) or "."), path)


def _compile_file(child: Any, cache: Any, life: float, log: Any) -> Any:
    from ecelerity.policy.sieve.cache import ScriptFile
    from ecelerity.policy.sieve.errors import SieveCompileError

    path, loc = _stanza_source(child)
    path = _resolve(path, loc)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SieveConfigError(f"{loc}: cannot read sieve script '{path}': {exc}") from None
    try:
        compiled = cache.get(text, path)
    except SieveCompileError as exc:
        raise SieveConfigError(f"{loc}: sieve script does not compile: {exc}") from None
    return ScriptFile(path, compiled, cache, life, log)


def read_scripts(stanza: Any, cache: Any, life: float = 0.0, log: Any = lambda text: None,
                 ) -> tuple[dict[str, Any], dict[str, str], list[str], list[Any]]:
    """Compile the instance's ``script`` and ``hook`` stanzas; returns (phase scripts,
    sources, warnings, hooks)."""
    from ecelerity.policy.sieve.hooks import OUTCOME_OF_HOOK, HookScript, outcome_of
    from ecelerity.policy.sieve.phase_runner import PhaseScripts

    scripts: dict[str, PhaseScripts] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    hooks: list[HookScript] = []
    for child in stanza.children:
        if child.kind == "hook":
            outcome = outcome_of(child.name or "")
            if outcome is None:
                names = ", ".join(f"core_{n}" for n in OUTCOME_OF_HOOK)
                warnings.append(f"{child.loc}: sieve hook '{child.name}' is not available "
                                f"(available: {names}); ignored")
                continue
            inline = (_setting(child, "async") or ("true", None))[0].lower() in ("false", "0", "no")
            hooks.append(HookScript(child.name, outcome, _compile_file(child, cache, life, log), inline))
            continue
        if child.kind != "script":
            raise SieveConfigError(f"{child.loc}: unknown stanza '{child.spelling}' inside sieve "
                                   "(expected 'script <phase>_phase1|2 {{ source = ... }}' or 'hook')")
        label = (child.name or "").lower()
        phase, _, which = label.rpartition("_")
        if phase not in SCRIPT_PHASES or which not in ("phase1", "phase2"):
            raise SieveConfigError(f"{child.loc}: invalid script phase '{child.name}' (use <phase>_phase1 "
                                   f"or <phase>_phase2 with phase one of {', '.join(SCRIPT_PHASES)})")
        script = _compile_file(child, cache, life, log)
        entry = scripts.setdefault(phase, PhaseScripts(phase))
        setattr(entry, which, script)
        sources[label] = script.path
    return scripts, sources, warnings, hooks


def _audit_hooks(ctx: Any, store: Any) -> None:
    """Feed the audit series (shared with Lua; each event counted once per session/message)."""
    import time

    from ecelerity.policy.phases import PRIORITY_LUA, PRIORITY_SIEVE

    def connected(vctx: Any, *args: Any) -> int:
        store.record_once("connections", vctx, time.monotonic())
        return 0

    def spooled(vctx: Any, *args: Any) -> int:
        if vctx.code is None or vctx.code.code < 400:
            store.record_once("receptions", vctx, time.monotonic(),
                              getattr(args[0], "id", None) if args else None)
        return 0
    # connections before any script (ec_ip_connections sees this one); receptions last
    ctx.register_hook("connect", connected, priority=PRIORITY_SIEVE - 2, name=f"{ctx.label}:audit")
    ctx.register_hook("data_spool", spooled, priority=PRIORITY_LUA + 50, name=f"{ctx.label}:audit")


def load(ctx: Any) -> SieveInstance:
    from ecelerity.policy.audit import store_for
    from ecelerity.policy.phases import PRIORITY_SIEVE
    from ecelerity.policy.sieve import console
    from ecelerity.policy.sieve.cache import ScriptCache
    from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache
    from ecelerity.policy.sieve.hooks import attach_hooks
    from ecelerity.policy.sieve.host import Counters
    from ecelerity.policy.sieve.phase_runner import PHASE_HOOKS, make_hook

    settings = ctx.settings
    name = ctx.instance.instance or "sieve"
    cache = ScriptCache(int(settings.get("cache_size", 200) or 200))
    life = float(settings.get("cache_life", 260) or 0)
    scripts, sources, warnings, hooks = read_scripts(ctx.instance.stanza, cache, life, ctx.log)
    try:
        throttle_size = int(ctx.config.get("siv_throttle_cache_size"))
    except (KeyError, ValueError, TypeError):
        throttle_size = 1000
    app = ctx.app
    inst = SieveInstance(name, str(settings.get("runtime_error", "fail")).lower(), scripts, sources,
                         Counters(), ThrottleCache(throttle_size), cache,
                         str(settings.get("reject_mode", "mdn")).lower(), store_for(app),
                         app.__dict__.setdefault("sieve_shared_throttles", ThrottleCache(throttle_size)),
                         hooks)
    for text in warnings:
        ctx.log(text)
    for phase, phase_scripts in scripts.items():
        priority = PRIORITY_SIEVE - 1 if phase == "accept" else PRIORITY_SIEVE
        ctx.register_hook(PHASE_HOOKS[phase], make_hook(ctx, inst, phase_scripts),
                          priority=priority, name=f"sieve:{name}:{phase}")
    _audit_hooks(ctx, inst.audit)
    attach_hooks(ctx, hooks, counters=inst.counters, audit=inst.audit)
    console.register_commands(ctx, inst)
    return inst


MODULE = ModuleSpec(
    name="sieve", singleton=False, implemented=True, any_option=True,
    doc="Sieve++ policy scripts in the validation phases",
    options={
        "cache_size": module_option("cache_size", INTEGER, 200, "compiled scripts kept in the cache",
                                    implemented=True),
        "cache_life": module_option("cache_life", SECONDS, 260, "seconds before a script file is "
                                    "re-read and recompiled if changed (0: on reload only)",
                                    implemented=True),
        "reject_mode": module_option("reject_mode", EnumType(["mdn", "550"]), "mdn",
                                     "reject once the message is in: mdn (accept, notify the "
                                     "sender, as Momentum) or 550", implemented=True),
        "runtime_error": module_option("runtime_error", EnumType(["fail", "continue"]), "fail",
                                       "a script's runtime error: fail (451 4.3.0) or continue",
                                       implemented=True),
    },
    load=load,
)
