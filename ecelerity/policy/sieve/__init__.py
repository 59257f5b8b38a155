"""Sieve (RFC 5228 and extensions) engine: compile once to closures, run per message.

compile_script/compile_cached (compiler.py) turn source into a CompiledScript;
run_script (engine.py) runs it over a MessageView and returns normalised actions.
cli.py is the offline tester. Sieve++ functions and daemon phases come later; this
package must never block the hub or reach the network.
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
