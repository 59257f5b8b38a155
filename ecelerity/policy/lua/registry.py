"""msys.registerModule and the scriptlet stanza: which Lua hooks exist and running them.

Called by the runtime (registerModule from scripts), by the scriptlet service
(``load_scriptlets`` at start and reload) and by the phase adapter / offline
tester (``run_hook``). Return conventions (Momentum does not document the
numbers; ours follow its C EC_HOOK_* order):

    msys.core.VALIDATE_CONT  = 0   continue with the other validators
    msys.core.VALIDATE_DONE  = 1   run no more validation hooks in this phase
    msys.core.VALIDATE_AGAIN = 2   "blocking, call again later"; treated as CONT here,
                                    because our hooks may simply block their greenlet

A hook that returns nothing counts as CONT. A hook that fails (Lua error,
budget, memory) is logged to the paniclog with its traceback and reported as
``failed``; the caller applies the configured temporary failure.

Scriptlet stanza: ``scriptlet "scriptlet" { script "name" { source = "dir.file" } }``.
``source`` is dotted (or '/'-separated), without ``.lua``, looked up along the
script path: the directory of the config file that holds the stanza, then
the extra directories given to the runtime, then the scripts shipped with
ecelerity (ecelerity/policy/lua/scripts/, which holds ``msys.boot``).
This module never does I/O except through the runtime's loader.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VALIDATE_CONT = 0
VALIDATE_DONE = 1
VALIDATE_AGAIN = 2

SHIPPED_SCRIPTS = str(Path(__file__).with_name("scripts"))

# Callouts Momentum predefines, with the arguments after ``self`` (for docs and the tester).
CALLOUTS: dict[str, str] = {
    "init": "()", "deinit": "()",
    "rsrc_setup": "()",  # after init: where Momentum's httpsrv example registers endpoints
    "validate_connect": "(accept, vctx)",
    "validate_ehlo": "(str, accept, vctx)",
    "validate_mailfrom": "(str, accept, vctx)",
    "validate_rcptto": "(msg, str, accept, vctx)",
    "validate_data": "(msg, accept, vctx)",
    "validate_data_spool": "(msg, accept, vctx)",
    "validate_data_spool_each_rcpt": "(msg, accept, vctx)",
    "validate_set_binding": "(msg)",
    "validate_rcptto_list": "(list_node, vctx)",
    "validate_rcptto_list_final": "(node, vctx)",
    "validate_dealloc": "()",
    # delivery results (delivery_callouts.py)
    "core_log_delivery_v1": "(msg, dc, now, note)",
    "core_log_transient_failure_v1": "(msg, dc, now, note)",
    "core_log_permanent_failure_v1": "(msg, dc, now, note)",
}
# Any C hook may be implemented by name too (core_final_validation, ...).
HOOK_PREFIXES = ("core_", "msg_gen_")


def usable_method(name: str) -> bool:
    return name in CALLOUTS or name.startswith(HOOK_PREFIXES)


@dataclass
class RegisteredModule:
    name: str
    table: Any                     # the Lua table passed to registerModule (self for hooks)
    hooks: dict[str, Any]          # hook name -> Lua function


@dataclass
class HookRun:
    """One module's hook call in a phase, for the caller and the offline tester."""

    module: str
    hook: str
    value: Any = None
    failed: str | None = None


@dataclass
class PhaseOutcome:
    runs: list[HookRun]
    done: bool = False             # a hook returned VALIDATE_DONE
    failed: str | None = None      # first failure text, the phase should tempfail


class ModuleRegistry:
    """The modules scripts registered, in registration order (re-registering replaces)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = weakref.proxy(runtime)  # the runtime owns us; lupa objects hate cycles
        self.modules: dict[str, RegisteredModule] = {}
        self.generation = 0  # bumped by every registration: prepared chains are stale then

    def register(self, name: Any, table: Any) -> bool:
        """Implementation of ``msys.registerModule(name, table)``."""
        text_name = _text(name)
        hooks: dict[str, Any] = {}
        table = self.runtime.sandbox.anchor(table)  # kept past this call
        if type(table).__name__ == "_LuaTable":
            for key, value in table.items():
                key_text = _text(key)
                if usable_method(key_text) and type(value).__name__ == "_LuaFunction":
                    hooks[key_text] = value
        if not hooks:
            self.runtime.log(f"no usable methods found for module {text_name} "
                             "in registerModule call")
            return False
        self.modules[text_name] = RegisteredModule(text_name, table, hooks)
        self.generation += 1
        return True

    def hooks_for(self, hook: str) -> list[RegisteredModule]:
        return [m for m in self.modules.values() if hook in m.hooks]

    def chain(self, hook: str) -> tuple[tuple[Any, Any, str, str], ...]:
        """``(function, module table, "module:hook", module name)`` per module with the
        hook, in order: what a caller prepares once and reuses until ``generation``
        changes."""
        return tuple((m.hooks[hook], m.table, f"{m.name}:{hook}", m.name)
                     for m in self.modules.values() if hook in m.hooks)

    def run_hook(self, hook: str, *args: Any, context: Any = None) -> PhaseOutcome:
        """Call ``mod:<hook>(*args)`` for every module that has it, in order, until one
        returns VALIDATE_DONE or fails."""
        outcome = PhaseOutcome(runs=[])
        invoke = self.runtime.invoke
        for function, table, what, name in self.chain(hook):
            ok, value = invoke(function, (table, *args), what, context)
            outcome.runs.append(HookRun(name, hook, value if ok else None,
                                        None if ok else value))
            if not ok:
                outcome.failed = f"{what}: {value}"
                break
            if value == VALIDATE_DONE and hook != "init":
                outcome.done = True
                break
        return outcome


@dataclass(frozen=True)
class ScriptSource:
    """One ``script "name" { source = "..." }`` entry."""

    name: str
    source: str
    loc: Any = None


def scriptlet_sources(config: Any) -> tuple[list[ScriptSource], list[str]]:
    """The script entries of every ``scriptlet`` stanza in ``config`` (in order) and the
    directories of the files that declared them (for the script path)."""
    sources: list[ScriptSource] = []
    directories: list[str] = []
    for instance in config.modules():
        if instance.module != "scriptlet":
            continue
        for child in instance.stanza.children:
            if child.kind != "script":
                continue
            values = {s.key: getattr(s.value, "text", None) for s in child.settings}
            source = values.get("source") or child.name
            sources.append(ScriptSource(child.name or source, source, child.loc))
            directory = str(Path(child.loc.file).resolve().parent)
            if child.loc.file != "<string>" and directory not in directories:
                directories.append(directory)
    return sources, directories


def load_scriptlets(runtime: Any, sources: list[ScriptSource]) -> list[str]:
    """Load every script, then call each module's ``init``, then each module's
    ``rsrc_setup`` (its return value is not checked). Returns the problems found
    (each also written to the paniclog); one bad script does not stop the others."""
    problems: list[str] = []
    from .runtime import ScriptError
    for entry in sources:
        try:
            runtime.load_file(runtime.resolve(entry.source))
        except ScriptError as exc:
            where = f"{entry.loc}: " if entry.loc else ""
            problems.append(f"{where}script {entry.name!r}: {exc}")
            runtime.log(problems[-1])
    for module in runtime.registry.hooks_for("init"):
        outcome = runtime.call(module.hooks["init"], module.table, what=f"{module.name}:init")
        if not outcome.ok or outcome.first is not True:
            problems.append(f"module {module.name}: init did not return true")
            runtime.log(problems[-1])
    for module in runtime.registry.hooks_for("rsrc_setup"):
        outcome = runtime.call(module.hooks["rsrc_setup"], module.table,
                               what=f"{module.name}:rsrc_setup")
        if not outcome.ok:
            problems.append(f"module {module.name}: rsrc_setup failed: {outcome.error}")
            runtime.log(problems[-1])
    return problems


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
