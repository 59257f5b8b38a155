"""Lua policy scriptlets (Momentum's ``scriptlet`` module) on lupa.

runtime.LuaRuntime is the hub's Lua state (sandbox.py makes it safe); scripts call
msys.registerModule (registry.py) and the msys.*/json.* libraries (lib_*.py,
assembled by libraries.py); bindings.py adapts the offline vctx/msg/ac objects and
bindings_real.py the daemon's live ones; modules/scriptlet.py wires the runtime into
the SMTP validation phases; cli.py is the offline tester (``python -m
ecelerity.policy.lua test ...``). This package never blocks the hub.
"""
from .registry import VALIDATE_AGAIN, VALIDATE_CONT, VALIDATE_DONE
from .runtime import CallContext, CallResult, LuaRuntime, ScriptError
from .sandbox import Limits, available_engines

__all__ = ["VALIDATE_AGAIN", "VALIDATE_CONT", "VALIDATE_DONE", "CallContext", "CallResult",
           "Limits", "LuaRuntime", "ScriptError", "available_engines"]
