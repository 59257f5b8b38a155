"""The ``sieve "instance" { ... }`` module: Sieve++ scripts in the validation phases.

Stanza (Momentum §4.1)::

    sieve "sieve1" {
      cache_size = 200  cache_life = 260  runtime_error = fail   # or continue
      script mailfrom_phase1 { source = "/path/to/script.siv" }
      hook "core_log_permanent_failure_v1" { source = "/path/x.siv" }
    }

``load(ctx)`` compiles every ``script <phase>_phase1|2`` (a compile error names
file:line:col and the module does not load: the daemon keeps serving without it),
registers one hook per phase at PRIORITY_SIEVE and the ``sieve:<inst> stats|reset|
flush cache|test|testfile`` console commands. ``hook`` stanzas name core hooks
that do not exist yet: they are reported to the paniclog and ignored. Importing
this file only defines MODULE.
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


def _stanza_source(child: Any) -> tuple[str, Any]:
    for setting in child.settings:
        if setting.key in ("source", "script"):
            return getattr(setting.value, "text", ""), setting.loc
    raise SieveConfigError(f"{child.loc}: '{child.spelling} {child.name}' needs source = \"path\"")


def _resolve(path: str, loc: Any) -> str:
    if os.path.isabs(path) or os.path.exists(path):
        return path
    return os.path.join(os.path.dirname(str(getattr(loc, "file", "")) or "."), path)


def read_scripts(stanza: Any, cache: Any) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Compile the instance's ``script`` stanzas; returns (phase scripts, sources, warnings)."""
    from ecelerity.policy.sieve.errors import SieveCompileError
    from ecelerity.policy.sieve.phase_runner import PhaseScripts

    scripts: dict[str, PhaseScripts] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    for child in stanza.children:
        if child.kind == "hook":
            warnings.append(f"{child.loc}: sieve hook '{child.name}' is not available yet; ignored")
            continue
        if child.kind != "script":
            raise SieveConfigError(f"{child.loc}: unknown stanza '{child.spelling}' inside sieve "
                                   "(expected 'script <phase>_phase1|2 {{ source = ... }}' or 'hook')")
        label = (child.name or "").lower()
        phase, _, which = label.rpartition("_")
        if phase not in SCRIPT_PHASES or which not in ("phase1", "phase2"):
            raise SieveConfigError(f"{child.loc}: invalid script phase '{child.name}' (use <phase>_phase1 "
                                   f"or <phase>_phase2 with phase one of {', '.join(SCRIPT_PHASES)})")
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
        entry = scripts.setdefault(phase, PhaseScripts(phase))
        setattr(entry, which, compiled)
        sources[label] = path
    return scripts, sources, warnings


def load(ctx: Any) -> SieveInstance:
    from ecelerity.policy.phases import PRIORITY_SIEVE
    from ecelerity.policy.sieve import console
    from ecelerity.policy.sieve.compiler import ScriptCache
    from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache
    from ecelerity.policy.sieve.host import Counters
    from ecelerity.policy.sieve.phase_runner import PHASE_HOOKS, make_hook

    settings = ctx.settings
    name = ctx.instance.instance or "sieve"
    cache = ScriptCache(int(settings.get("cache_size", 200) or 200))
    scripts, sources, warnings = read_scripts(ctx.instance.stanza, cache)
    try:
        throttle_size = int(ctx.config.get("siv_throttle_cache_size"))
    except (KeyError, ValueError, TypeError):
        throttle_size = 1000
    inst = SieveInstance(name, str(settings.get("runtime_error", "fail")).lower(), scripts, sources,
                         Counters(), ThrottleCache(throttle_size), cache)
    for text in warnings:
        ctx.log(text)
    for phase, phase_scripts in scripts.items():
        priority = PRIORITY_SIEVE - 1 if phase == "accept" else PRIORITY_SIEVE
        ctx.register_hook(PHASE_HOOKS[phase], make_hook(ctx, inst, phase_scripts),
                          priority=priority, name=f"sieve:{name}:{phase}")
    console.register_commands(ctx, inst)
    return inst


MODULE = ModuleSpec(
    name="sieve", singleton=False, implemented=True, any_option=True,
    doc="Sieve++ policy scripts in the validation phases",
    options={
        "cache_size": module_option("cache_size", INTEGER, 200, "compiled scripts kept in the cache",
                                    implemented=True),
        "cache_life": module_option("cache_life", SECONDS, 260, "seconds a cached script lives "
                                    "(scripts are recompiled on reload; accepted)"),
        "runtime_error": module_option("runtime_error", EnumType(["fail", "continue"]), "fail",
                                       "a script's runtime error: fail (451 4.3.0) or continue",
                                       implemented=True),
    },
    load=load,
)
