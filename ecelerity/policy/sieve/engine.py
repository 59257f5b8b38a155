"""Run a compiled Sieve script over one message and report its normalised actions.

Called by cli.py (offline tester) and phase_runner.py (the daemon's sieve phases). A
runtime error discards the run's actions and falls back to implicit keep (RFC 5228
§2.10.6). Never raises for a script's own failure: the result carries it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .compiler import CompiledScript
from .errors import DEFAULT_LIMITS, Limits, SieveRuntimeError
from .message_view import MessageView
from .runtime import ReturnScript, Runtime, StopScript


@dataclass
class SieveResult:
    """``error`` is None, "compile" or "runtime"; ``message`` says what went wrong."""

    error: str | None
    actions: list[dict] = field(default_factory=list)
    message: str | None = None
    plain: bool = False  # no action, no flag: ``actions`` is just the implicit keep

    def as_json(self) -> dict:
        return {"error": self.error, "actions": self.actions}


def run_script(script: CompiledScript, message: MessageView,
               limits: Limits = DEFAULT_LIMITS, host=None) -> SieveResult:
    """Execute ``script`` against ``message``; the result lists actions in order.

    ``host`` (host.PolicyHost) is what Sieve++ functions act on; without one a
    detached host (fresh vctx, tarpit recorded but not slept) is used.
    """
    if host is None:
        from .host import PolicyHost
        from ...policy.vctx import ValidationContext
        host = PolicyHost(ValidationContext(), can_sleep=False)
    rt = Runtime(message, limits, host)
    try:
        script.run(rt)
    except (StopScript, ReturnScript):
        pass
    except SieveRuntimeError as exc:
        return SieveResult("runtime", [{"action": "keep", "implicit": True}],
                           f"{exc.loc or script.name}: runtime error: {exc.message}")
    except RecursionError:
        return SieveResult("runtime", [{"action": "keep", "implicit": True}],
                           f"{script.name}: runtime error: evaluation too deep")
    except Exception as exc:  # noqa: BLE001 - a bug in a function must not escape as a traceback
        return SieveResult("runtime", [{"action": "keep", "implicit": True}],
                           f"{script.name}: runtime error: internal error "
                           f"({type(exc).__name__}: {exc})")
    if rt.implicit_keep and not rt.actions.actions and not rt.flags:
        return SieveResult(None, [{"action": "keep", "implicit": True}], None, True)
    return SieveResult(None, rt.normalised_actions())
