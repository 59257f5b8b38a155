"""Sieve++ antivirus actions: ``clamav_avscan;`` scans the message with the clamav engines.

Momentum's "antivirus" Sieve functions: one action per engine module, named after
it with ``_avscan`` appended (``clamav_avscan``; csapi, f_secure and kaspersky are
not built). Registered into registry.py (COMMANDS). Data phase only (it needs the
message). The action returns no value: each clamav engine of the antivirus module
(ecelerity/antivirus/, found through the daemon app) scans the message, stopping
at the first virus, and marks the validation context (``<context_variable>`` =
infected|error|unscannable, ``<context_variable>_info`` = virus name or error
text; default name ``<engine>_status``); an engine with ``action = reject`` also
refuses the message (550 5.7.1, or its error_code 451 4.3.0 when clamd is down),
ending the script like ec_action. ``skip_context_variable`` is honoured. Without
a configured clamav engine the action is a runtime error naming the script line.
The scan waits on gevent sockets: only the session's greenlet waits.
"""
from __future__ import annotations

from typing import Callable

from ...antivirus import verdict
from ...antivirus.engines import registry_of
from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of
from .host import Outcome
from .runtime import Runtime, StopScript
from .spec import Args, Spec

ENGINE_KINDS = ("clamav",)


def _avscan(kind: str) -> Callable[[Args, object], Callable[[Runtime], None]]:
    def build(args: Args, env) -> Callable[[Runtime], None]:
        def avscan(rt: Runtime) -> None:
            host = host_of(rt, args)
            engines = registry_of(host.app).of_kind(kind)
            if not engines:
                raise SieveRuntimeError(f"'{args.name}': no {kind} engine is configured "
                                        f"(antivirus {{ {kind} \"name\" {{ daemon = ... }} }})", args.loc)
            if host.message is None:
                raise SieveRuntimeError(f"'{args.name}' needs the message (data phases only)", args.loc)
            data = host.message.data()
            for engine in engines:
                if verdict.skip_requested(host.vctx, engine.settings):
                    continue
                result = engine.scan_message(data)
                verdict.mark_context(host.vctx, engine.settings, result)
                host.notes.append(f"{args.name}: {engine.name} status {result.status} {result.info or ''}".rstrip())
                refused = verdict.rejection(engine.settings, result)
                if refused is not None:
                    host.terminal(Outcome("action", refused[0], refused[1], f"antivirus:{engine.name}"))
                    raise StopScript()
                if result.infected:
                    return
        return avscan
    return build


COMMANDS = {f"{kind}_avscan": Spec(_avscan(kind)) for kind in ENGINE_KINDS}
