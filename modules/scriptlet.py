"""The ``scriptlet "scriptlet" { script "name" { source = "dir.file" } }`` module: Lua policy.

Stanza (Momentum §5.1)::

    scriptlet "scriptlet" {
      engine = auto                  # luajit | lua54 | auto (LuaJIT when lupa has it)
      script_path = ( "/etc/ecelerity/lua" )   # searched after the config file's directory
      instruction_budget = 20000000  # VM instructions per hook call
      memory_limit = 256M            # the Lua heap (exact on Lua 5.4, best effort on LuaJIT)
      script_error_reply = "451 4.3.0 [internal] policy script error"
      io_wrapper_dirs = ( "/var/log/ecelerity/lua" )  # where msys.core.io_wrapper_open may write
      script "boot" { source = "msys.boot" }
      script "ehlo_phase" { source = "myscripts.ehlo_phase" }
    }

The stanza may be repeated (one instance name): the first instance's ``load(ctx)``
builds ONE LuaRuntime from every ``script`` of every scriptlet stanza and registers
one PRIORITY_LUA hook per validation phase some registered Lua module implements;
the other instances load nothing. Each hook calls ``registry.run_hook("validate_<phase>",
...)`` with Momentum's arguments, as proxies (bindings_real.py) over the REAL
ValidationContext and the session's message. A failing hook (Lua error, instruction
budget, memory cap) logs its Lua traceback to the paniclog and answers with
``script_error_reply`` (a temporary failure); the session and the daemon go on.
Reload (SIGHUP / ``module reload``) unloads this instance (deinit callouts, timers
cancelled, hooks and commands removed) and loads the new configuration's; sessions in
progress keep their connection and meet the new scripts at their next phase.
Console: ``scriptlet status`` and every ``msys.registerControl`` command. The runtime
gets ``runtime.app`` (msg:inject/forward and msys.rfc3464.send_mdn store through
``app.spool`` and ``app.queue_manager``), and two last-priority hooks feed msys.audit.*
(connections at connect; receptions at data_spool when not refused; a Lua hook
leaving a 4xx/5xx code counts as a rejection -- refusals by the core or other
modules are not seen yet). When a module implements a delivery callout
(core_log_delivery_v1, core_log_transient_failure_v1, core_log_permanent_failure_v1),
policy/lua/delivery_callouts.py observes ``app.queue_manager``'s results until unload.
``rsrc_setup`` callouts run after ``init``. Unloading also retires the module's
msys.registerAuth schemes. ``io_wrapper_dirs`` (relative to the config file's
directory) are the only places scripts may write. Importing this file only defines MODULE.
"""
from __future__ import annotations

from time import monotonic as _monotonic
from dataclasses import dataclass, field
from typing import Any

from ecelerity.config.types import INTEGER, SIZE, STRING, STRING_LIST, EnumType
from ecelerity.modules import ModuleSpec, module_option

DEFAULT_ERROR_REPLY = "451 4.3.0 [internal] policy script error"
AUDIT_PRIORITY = 10_000  # after every policy hook of the phase
DEFAULT_BUDGET = 20_000_000
DEFAULT_MEMORY = 256 * 1024 * 1024

# daemon phase -> Lua callout; the Lua arguments are built in ScriptletInstance._lua_args.
CALLOUTS = {
    "connect": "validate_connect", "ehlo": "validate_ehlo", "mailfrom": "validate_mailfrom",
    "rcptto": "validate_rcptto", "rcptto_list": "validate_rcptto_list",
    "data": "validate_data", "data_spool": "validate_data_spool",
    "data_spool_each_rcpt": "validate_data_spool_each_rcpt",
    "set_binding": "validate_set_binding",
}


def parse_reply(text: str) -> tuple[int, str]:
    """``"451 4.3.0 text"`` -> (451, "4.3.0 text"); refuses anything but a 4xx/5xx code."""
    code, _, rest = text.strip().partition(" ")
    if not (code.isdigit() and len(code) == 3 and code[0] in "45"):
        raise ValueError(f"script_error_reply must start with a 4xx or 5xx code, not {text!r}")
    return int(code), rest.strip() or "4.3.0 [internal] policy script error"


@dataclass
class ScriptletInstance:
    """The loaded scriptlet: its runtime, proxies and the reply for script errors.
    Hook calls go through ``caller`` (policy/lua/live_calls.py: prepared chains,
    proxies made once per session and once per message, edits committed)."""

    ctx: Any
    runtime: Any
    bindings: Any
    error_reply: tuple[int, str]
    problems: list[str] = field(default_factory=list)
    caller: Any = field(default=None, repr=False)
    delivery: Any = field(default=None, repr=False)  # delivery_callouts.DeliveryCallouts
    _audit_store: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from ecelerity.policy.lua.live_calls import PhaseCaller
        self.caller = PhaseCaller(self.runtime, self.bindings,
                                  lambda peer_ip: self.sessions_by_ip().get(peer_ip, 0),
                                  error_reply=self.error_reply,
                                  on_rejection=lambda vctx: self.audit("rejections", vctx))

    @property
    def calls(self) -> int:
        return self.caller.calls

    @property
    def failures(self) -> int:
        return self.caller.failures

    def hook(self, phase: str) -> Any:
        """The registered hook of ``phase``: PhaseCaller's closure itself, no wrapper."""
        return self.caller.hook(phase, CALLOUTS[phase])

    def run(self, phase: str, callout: str, vctx: Any, args: tuple) -> int:
        """One Lua callout for one phase (what the registered hooks do)."""
        return self.caller.run(phase, callout, vctx, args)

    def audit(self, kind: str, vctx: Any, token: Any = None) -> None:
        """Feed msys.audit.* (policy/audit.py, shared with Sieve++): connections and
        receptions once per session / message whichever module counts first."""
        store = self._audit_store or self._store()
        now = self._clock()
        if kind == "rejections":
            store.record(kind, vctx.get("conn", "peer_ip") or "", now)
        else:
            store.record_once(kind, vctx, now, token)

    def audit_hooks(self) -> dict[str, Any]:
        """Hooks run last in their phase (after Lua): connect counts a connection,
        data_spool a reception when no hook refused the message."""
        def connected(vctx: Any, *args: Any) -> int:
            store = self._audit_store or self._store()
            store.record_once("connections", vctx, self._clock())
            return 0

        def spooled(vctx: Any, *args: Any) -> int:
            code = vctx.code
            if code is None or code.code < 400:  # Lua's rejections: in PhaseCaller
                store = self._audit_store or self._store()
                store.record_once("receptions", vctx, self._clock(),
                                  getattr(args[0], "id", None) if args else None)
            return 0
        return {"connect": connected, "data_spool": spooled}

    def _clock(self) -> float:
        """The runtime's clock (tests set ``runtime.clock``), else monotonic time. Read from
        the instance dict: getattr with a default pays for an AttributeError per call."""
        clock = self.runtime.__dict__.get("clock")
        return _monotonic() if clock is None else clock()

    def _store(self) -> Any:
        from ecelerity.policy.lua.lib_series import store_of
        self._audit_store = store_of(self.runtime)
        return self._audit_store

    def sessions_by_ip(self) -> dict[str, int]:
        """Peer IP -> live inbound sessions over every ESMTP listener of the daemon
        (``ac:inbound_session_count``, ``msys.audit.inbound_session_count``)."""
        totals: dict[str, int] = {}
        for service in getattr(self.ctx.app, "services", []):
            counts = getattr(service, "sessions_by_ip", None)
            if callable(counts):  # smtp/server.py SMTPService
                for ip, n in counts().items():
                    totals[ip] = totals.get(ip, 0) + n
        return totals

    def control_handler(self, name: str, function: Any) -> Any:
        from ecelerity.control.registry import CommandError
        from ecelerity.policy.lua import CallContext

        def handle(cmd: Any) -> list[str]:
            printed: list[str] = []
            argv = [name] + list(cmd.args)
            cc = self.runtime.to_lua({"argv": argv, "argc": len(argv)})
            result = self.runtime.call(function, cc, what=f"control {name}",
                                       context=CallContext(extra={"print": printed}))
            if not result.ok:
                raise CommandError(500, f"{name}: script error: {result.error}")
            returned = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                        for v in result.values if v is not None and not isinstance(v, bool)]
            return printed + returned
        return handle

    def status(self, cmd: Any) -> list[str]:
        runtime = self.runtime
        lines = [f"engine: {runtime.version}", f"calls: {self.calls} failed: {self.failures}"]
        if self.delivery is not None:
            lines.append(f"delivery callouts: {self.delivery.calls} failed: "
                         f"{self.delivery.failures} dropped: {self.delivery.dropped}")
        for module in runtime.registry.modules.values():
            lines.append(f"module {module.name}: {', '.join(sorted(module.hooks))}")
        lines += [f"problem: {text}" for text in self.problems]
        return lines

    def stop(self) -> None:
        """Unload: delivery callouts detached, auth schemes retired, deinit callouts,
        then the Lua timers are cancelled."""
        from ecelerity.policy.lua import lib_auth
        runtime = self.runtime
        if self.delivery is not None:
            self.delivery.detach()
        lib_auth.retire(runtime)
        for module in runtime.registry.hooks_for("deinit"):
            runtime.call(module.hooks["deinit"], module.table, what=f"{module.name}:deinit")
        for timer in list(getattr(runtime, "_timers", {}).values()):
            timer.kill(block=False)
        runtime.control_registrar = None


def _first_instance(ctx: Any) -> bool:
    for instance in ctx.config.modules():
        if instance.module == "scriptlet":
            return instance is ctx.instance or instance.loc == ctx.instance.loc
    return True


def _limits(settings: dict[str, Any]) -> Any:
    from ecelerity.policy.lua.sandbox import HOOK_EVERY, Limits
    budget = int(settings.get("instruction_budget", DEFAULT_BUDGET) or DEFAULT_BUDGET)
    memory = int(settings.get("memory_limit", DEFAULT_MEMORY) or DEFAULT_MEMORY)
    return Limits(ticks=max(1, budget // HOOK_EVERY), memory_bytes=memory,
                  max_string_bytes=min(memory, Limits().max_string_bytes))


def _writable_dirs(ctx: Any, settings: dict[str, Any]) -> list[str]:
    """``io_wrapper_dirs``, relative ones taken from the config file's directory."""
    from pathlib import Path
    value = settings.get("io_wrapper_dirs") or []
    loc_file = getattr(getattr(ctx.instance, "loc", None), "file", "<string>") or "<string>"
    base = Path.cwd() if loc_file.startswith("<") else Path(loc_file).resolve().parent
    return [str((base / d).resolve()) for d in ([value] if isinstance(value, str) else value)]


def _attach_delivery(ctx: Any, inst: ScriptletInstance) -> None:
    from ecelerity.policy.lua.delivery_callouts import DeliveryCallouts
    manager = getattr(ctx.app, "queue_manager", None)
    callouts = DeliveryCallouts(inst.runtime, inst.bindings, getattr(ctx.app, "spool", None))
    if not callouts.wanted:
        return
    if manager is None:
        inst.problems.append("delivery callouts registered but there is no queue manager")
        ctx.log(inst.problems[-1])
        return
    callouts.attach(manager)
    inst.delivery = callouts


def load(ctx: Any) -> ScriptletInstance | None:
    from ecelerity.delivery.dns import DnsResolver
    from ecelerity.policy.lua import LuaRuntime
    from ecelerity.policy.lua.lib_inject import bindings_of
    from ecelerity.policy.lua.registry import SHIPPED_SCRIPTS, load_scriptlets, scriptlet_sources
    from ecelerity.policy.phases import PRIORITY_LUA

    if not _first_instance(ctx):
        ctx.log(f"{ctx.instance.loc}: scripts merged into the first scriptlet stanza")
        return None
    settings = ctx.settings
    error_reply = parse_reply(str(settings.get("script_error_reply") or DEFAULT_ERROR_REPLY))
    engine = str(settings.get("engine") or "auto").lower()
    sources, directories = scriptlet_sources(ctx.config)
    extra = settings.get("script_path") or []
    script_path = directories + ([extra] if isinstance(extra, str) else list(extra))
    runtime = LuaRuntime(None if engine == "auto" else engine, limits=_limits(settings),
                         paniclog=ctx.app.log, script_path=script_path + [SHIPPED_SCRIPTS],
                         config=ctx.config)
    runtime.dns_resolver = DnsResolver.from_config(ctx.config)
    runtime.app = ctx.app  # msg:inject / forward reach the spool and queue through it
    runtime.writable_dirs = _writable_dirs(ctx, settings)  # msys.core.io_wrapper_open
    inst = ScriptletInstance(ctx, runtime, bindings_of(runtime), error_reply)
    runtime.sessions_by_ip = inst.sessions_by_ip  # msys.audit.inbound_session_count
    runtime.control_registrar = lambda name, function: ctx.register_command(
        name, inst.control_handler(name, function), "Lua control command (msys.registerControl)")
    ctx.register_command("scriptlet status", inst.status,
                         "Lua engine, registered modules and their hooks, load problems")
    inst.problems = load_scriptlets(runtime, sources)
    _attach_delivery(ctx, inst)
    for phase, callout in CALLOUTS.items():
        if runtime.registry.hooks_for(callout):
            ctx.register_hook(phase, inst.hook(phase), priority=PRIORITY_LUA,
                              name=f"scriptlet:{callout}")
    for phase, audit_hook in inst.audit_hooks().items():
        ctx.register_hook(phase, audit_hook, priority=AUDIT_PRIORITY, name=f"scriptlet:audit_{phase}")
    ctx.log(f"{runtime.version}: {len(runtime.registry.modules)} Lua module(s) registered, "
            f"{len(inst.problems)} problem(s)")
    return inst


MODULE = ModuleSpec(
    name="scriptlet", singleton=False, implemented=True, any_option=True,
    doc="Lua policy scripts (msys.registerModule) in the validation phases",
    options={
        "engine": module_option("engine", EnumType(["auto", "luajit", "lua54"]), "auto",
                                "Lua engine: LuaJIT when available (auto), or Lua 5.4",
                                implemented=True),
        "script_path": module_option("script_path", STRING_LIST, [],
                                     "directories searched for scripts after the config "
                                     "file's directory", implemented=True),
        "instruction_budget": module_option("instruction_budget", INTEGER, DEFAULT_BUDGET,
                                            "Lua VM instructions one hook call may run",
                                            implemented=True),
        "memory_limit": module_option("memory_limit", SIZE, DEFAULT_MEMORY,
                                      "Lua heap cap in bytes", implemented=True),
        "script_error_reply": module_option("script_error_reply", STRING, DEFAULT_ERROR_REPLY,
                                            "reply when a hook fails (a temporary failure)",
                                            implemented=True),
        "io_wrapper_dirs": module_option("io_wrapper_dirs", STRING_LIST, [],
                                         "directories msys.core.io_wrapper_open may write "
                                         "under (none: scripts cannot write files)",
                                         implemented=True),
    },
    load=load,
)
