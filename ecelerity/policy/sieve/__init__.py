"""Sieve (RFC 5228 and extensions) engine: compile once to closures, run per message.

compile_script (compiler.py) and compile_cached (cache.py) turn source into a CompiledScript;
run_script (engine.py) runs it over a MessageView and returns normalised actions.
cli.py is the offline tester. Sieve++ (Momentum) actions and functions live in
ext_momentum_*.py (registry.py lists what exists) and act through host.PolicyHost;
phase_runner.py runs an instance's phase1/phase2 scripts in the daemon's validation phases (modules/sieve.py
loads them, console.py adds the ``sieve:<inst>`` commands). This package must never
block the hub: a tarpit, ec_dns_lookup and injection wait in the session greenlet only.
"""
from .cache import SCRIPT_CACHE, compile_cached
from .compiler import CompiledScript, compile_script
from .engine import SieveResult, run_script
from .errors import DEFAULT_LIMITS, Limits, SieveCompileError, SieveError, SieveRuntimeError
from .message_view import MessageView

__all__ = [
    "SCRIPT_CACHE", "CompiledScript", "compile_cached", "compile_script", "SieveResult",
    "run_script", "DEFAULT_LIMITS", "Limits", "SieveCompileError", "SieveError",
    "SieveRuntimeError", "MessageView",
]
