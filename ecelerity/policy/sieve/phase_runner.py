"""Runs a sieve instance's phase1 then phase2 scripts in one validation phase.

Called by modules/sieve.py's hooks (and the ``sieve:<inst> test`` console command)
with the vctx and the phase's arguments. Phase 2 runs only when phase 1 ended
without a terminal action; when phase 2 ends without one, implicit keep applies.
Terminal actions map to SMTP replies in that phase:

====================  ==========================================================
ec_action N "x"       reply ``N x`` (enhanced code from the text, else N/100.0.0)
ec_disconnect N "x"   reply ``N x``, then the session closes
reject/ec_reject "x"  ``550 5.7.1 x``
discard/ec_discard    the sender sees success; the message is marked discarded
                      (``vctx.discard()``: 250 to the client, nothing spooled)
keep/ec_keep          accept; later hooks and phases still run
runtime error         runtime_error = fail: ``451 4.3.0``; continue: ignored
====================  ==========================================================

In each_rcpt a refusal fails that recipient only (the session drops it). Never
raises: a broken script is logged and becomes the runtime_error disposition.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..phases import CONTINUE, DONE
from ..vctx import ValidationContext
from .compiler import CompiledScript
from .engine import run_script
from .errors import DEFAULT_LIMITS, Limits
from .host import Counters, Outcome, PolicyHost
from .message_view import MessageView

# Momentum script phase name -> daemon validation phase (policy/phases.py).
PHASE_HOOKS = {
    "accept": "connect", "connect": "connect", "ehlo": "ehlo", "mailfrom": "mailfrom",
    "rcptto": "rcptto", "data": "data", "spool": "data_spool",
    "each_rcpt": "data_spool_each_rcpt", "set_binding": "set_binding",
}
MESSAGE_PHASES = ("data", "spool", "each_rcpt", "set_binding")


@dataclass
class PhaseScripts:
    """The compiled phase1/phase2 scripts of one Momentum phase (either may be None)."""

    phase: str
    phase1: CompiledScript | None = None
    phase2: CompiledScript | None = None


@dataclass
class PhaseOutcome:
    """What the phase decided; ``reply`` is (code, text) or None for no opinion."""

    outcome: Outcome | None
    reply: tuple[int, str] | None = None
    disconnect: bool = False
    errors: list[str] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)


def build_view(phase: str, host: PolicyHost, message: Any = None) -> MessageView:
    """The message the scripts read: the real one in data phases, an empty one before."""
    envelope_to = getattr(host.recipient, "address", "") if host.recipient is not None else ""
    raw = message.data() if message is not None and phase in MESSAGE_PHASES else b""
    if not envelope_to and message is not None:
        recipients = getattr(message.envelope, "recipients", [])
        envelope_to = recipients[0].address if recipients else ""
    return MessageView(raw, host.mail_from, envelope_to, host.vctx.conn.get("auth_user", ""))


def _outcome_from_actions(actions: list[dict]) -> Outcome | None:
    """Standard Sieve actions that end a phase: reject, discard, explicit keep."""
    if len(actions) == 1 and actions[0].get("implicit"):
        return None  # the usual case: nothing but the implicit keep
    for action in actions:
        if action["action"] == "reject":
            return Outcome("reject", 550, action.get("reason", ""))
    kinds = {a["action"] for a in actions if not a.get("implicit")}
    if "discard" in kinds and not kinds & {"keep", "fileinto", "redirect"}:
        return Outcome("discard")
    if "keep" in kinds or "fileinto" in kinds:
        return Outcome("keep")
    return None


def run_phase(scripts: PhaseScripts, host: PolicyHost, view: MessageView, *,
              runtime_error: str = "fail", limits: Limits = DEFAULT_LIMITS) -> PhaseOutcome:
    """phase1, then phase2 unless phase1 was terminal; returns the phase's decision."""
    result = PhaseOutcome(None)
    for label, script in (("phase1", scripts.phase1), ("phase2", scripts.phase2)):
        if script is None:
            continue
        host.script_label = f"{scripts.phase}_{label}"
        run = run_script(script, view, limits, host)
        result.actions = run.actions
        if run.error is not None:
            text = run.message or f"{script.name}: runtime error"
            result.errors.append(text)
            host.log(text)
            host.counters.inc(f"{host.script_label}:runtime-error")
            if runtime_error != "continue":
                result.outcome = Outcome("action", 451, "4.3.0 policy script error, try again later")
                break
            host.outcome = None
            continue
        outcome = host.outcome or _outcome_from_actions(run.actions)
        if outcome is not None:
            result.outcome = outcome
            break
    host.counters.inc(":sieve-processed (informational)")
    result.reply, result.disconnect = _reply_of(result.outcome)
    return result


def _reply_of(outcome: Outcome | None) -> tuple[tuple[int, str] | None, bool]:
    if outcome is None or outcome.kind in ("keep",):
        return None, False
    if outcome.kind in ("action", "disconnect"):
        return (outcome.code, outcome.text), outcome.kind == "disconnect"
    if outcome.kind == "reject":
        text = outcome.text.strip() or "rejected by policy"
        return (550, text if _has_enhanced(text) else f"5.7.1 {text}"), False
    return None, False  # discard: the sender sees success


def _has_enhanced(text: str) -> bool:
    head = text.split(" ", 1)[0].split(".")
    return len(head) == 3 and all(p.isdigit() for p in head) and head[0] in "245"


def apply_to_vctx(result: PhaseOutcome, vctx: ValidationContext) -> int:
    """Leave the decision on the vctx for the session; returns CONTINUE or DONE."""
    if result.outcome is not None and result.outcome.kind == "discard":
        vctx.discard()
        return DONE
    if result.reply is None:
        return CONTINUE
    code, text = result.reply
    if result.disconnect:
        vctx.disconnect(code, text)
        vctx.set_code(code, text)
    else:
        vctx.set_code(code, text)
    return DONE


def host_for(vctx: ValidationContext, phase: str, args: tuple, **fields: Any) -> tuple[PolicyHost, Any]:
    """A PolicyHost for a hook call: picks the message and recipient out of the phase args."""
    message = recipient = None
    if phase in MESSAGE_PHASES and args:
        message = args[0]
        if phase == "each_rcpt" and len(args) > 1:
            recipient = args[1]
    elif phase == "rcptto" and len(args) > 1:
        recipient = args[1]
    host = PolicyHost(vctx, phase=phase, message=message, recipient=recipient,
                      counters=fields.pop("counters", None) or Counters(), **fields)
    if message is not None:
        envelope = message.envelope
        host.mail_from = envelope.mail_from
        host.message_id = message.id
    else:
        host.mail_from = _mailfrom_of(vctx)
    return host, message


def _mailfrom_of(vctx: ValidationContext) -> str:
    local, domain = vctx.mess.get("mailfrom_localpart", ""), vctx.mess.get("mailfrom_domain", "")
    return f"{local}@{domain}" if local and domain else local


def make_hook(ctx: Any, inst: Any, scripts: PhaseScripts):
    """The validation hook of one phase of a loaded sieve instance (modules/sieve.py)."""
    phase = scripts.phase
    config = ctx.config
    spool = getattr(ctx.app, "spool", None)
    spool_base = getattr(spool, "base", None)

    def sieve_hook(vctx: ValidationContext, *args: Any) -> int:
        host, message = host_for(vctx, phase, args, config=config, counters=inst.counters,
                                 throttles=inst.throttles, log=ctx.log, spool_base=spool_base)
        if message is not None:
            envelope = message.envelope
            host.peer_ip, host.peer_port = envelope.peer_ip or "", envelope.peer_port or 0
        view = build_view(phase, host, message)
        result = run_phase(scripts, host, view, runtime_error=inst.runtime_error)
        return apply_to_vctx(result, vctx)
    return sieve_hook
