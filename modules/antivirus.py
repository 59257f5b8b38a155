"""The ``antivirus "name" { clamav "engine" { ... } }`` module: virus scanning in the data phase.

Grammar and options: ecelerity/antivirus/config.py (Momentum's antivirus and
clamav reference). ``load(ctx)`` builds one Engine per engine stanza (a bad one
names file:line:col and the module does not load; the daemon keeps serving),
registers them in the daemon's EngineRegistry (msys.av and the Sieve
``<engine>_avscan`` actions find them there, until unload), and for every engine
not ``enabled = false`` (passive, Momentum's "scan only when a script asks") a
data-phase hook at PRIORITY_MODULE that scans the message and applies the verdict
(antivirus/verdict.py: context variables; with action = reject, 550 5.7.1 for a
virus and 451 4.3.0 naming the engine when clamd is down or times out). Console:
``antivirus:<name> stats|version``. The scan waits on gevent sockets: only the
session's greenlet waits, never the hub. Importing this file only defines MODULE.
"""
from __future__ import annotations

from typing import Any

from ecelerity.antivirus.config import ENGINE_OPTIONS, check_stanza
from ecelerity.modules import ModuleSpec


def _data_hook(engine: Any) -> Any:
    from ecelerity.antivirus import verdict
    from ecelerity.policy.phases import CONTINUE, DONE

    def scan_in_data_phase(vctx: Any, message: Any, *args: Any) -> int:
        if verdict.skip_requested(vctx, engine.settings):
            return CONTINUE
        result = engine.scan_message(message.data())
        return DONE if verdict.apply(vctx, engine.settings, result) else CONTINUE
    scan_in_data_phase.__qualname__ = f"antivirus:{engine.name}"
    return scan_in_data_phase


def load(ctx: Any) -> list[Any]:
    from ecelerity.antivirus import console
    from ecelerity.antivirus.config import no_effect_options, read_engines
    from ecelerity.antivirus.engines import Engine, registry_of
    from ecelerity.policy.phases import PRIORITY_MODULE

    stanza = ctx.instance.stanza
    engines = [Engine(settings) for settings in read_engines(stanza)]
    for loc, text in no_effect_options(stanza):
        ctx.log(f"{loc}: {text}")
    registry = registry_of(ctx.app)
    for engine in engines:
        registry.add(engine)
        ctx.on_unload(lambda engine=engine: registry.remove(engine))
        if engine.settings.enabled:
            ctx.register_hook("data", _data_hook(engine), priority=PRIORITY_MODULE,
                              name=f"antivirus:{engine.name}")
        mode = "scans every message" if engine.settings.enabled else "passive (scripts scan)"
        ctx.log(f"engine {engine.name} ({engine.settings.kind} at {engine.settings.daemon}): {mode}, "
                f"action {engine.settings.action}")
    console.register_commands(ctx, ctx.instance.instance or "antivirus", engines)
    return engines


MODULE = ModuleSpec(
    name="antivirus", singleton=False, implemented=True, any_option=True,
    doc="virus scanning with clamd engines (clamav stanzas inside)",
    options=dict(ENGINE_OPTIONS), load=load, check=lambda stanza: check_stanza(stanza)[1],
)
