"""Sieve (RFC 5228 and extensions) engine: compile once to closures, run per message.

compile_script/compile_cached (compiler.py) turn source into a CompiledScript;
run_script (engine.py) runs it over a MessageView and returns normalised actions.
cli.py is the offline tester. Sieve++ (Momentum) actions and functions live in
ext_momentum_*.py and act through host.PolicyHost; phase_runner.py runs an
instance's phase1/phase2 scripts in the daemon's validation phases (modules/sieve.py
loads them, console.py adds the ``sieve:<inst>`` commands). This package must never
block the hub (only a tarpit sleeps the session greenlet) or reach the network.
"""
from .compiler import SCRIPT_CACHE, CompiledScript, compile_cached, compile_script
from .engine import SieveResult, run_script
from .errors import DEFAULT_LIMITS, Limits, SieveCompileError, SieveError, SieveRuntimeError
from .message_view import MessageView

__all__ = [
    "SCRIPT_CACHE", "CompiledScript", "compile_cached", "compile_script", "SieveResult",
    "run_script", "DEFAULT_LIMITS", "Limits", "SieveCompileError", "SieveError",
    "SieveRuntimeError", "MessageView",
]
