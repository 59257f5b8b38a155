"""Runs a sieve instance's phase1 then phase2 scripts in one validation phase.

Called by modules/sieve.py's hooks (and the ``sieve:<inst> test`` console command)
with the vctx and the phase's arguments. Phase 2 runs only when phase 1 ended
without a terminal action; when phase 2 ends without one, implicit keep applies.
Terminal actions map to SMTP replies in that phase:

====================  ==========================================================
ec_action N "x"       reply ``N x`` (enhanced code from the text, else N/100.0.0)
ec_disconnect N "x"   reply ``N x``, then the session closes
reject/ec_reject "x"  ``550 5.7.1 x`` before the message is in (connect..rcptto);
                      in data, spool, each_rcpt and set_binding (reject_mode = mdn,
                      the default, and a non-null sender) the client gets success
                      and the sender a rejection notice (reject_notice.py); each_rcpt
                      drops that recipient only. reject_mode = 550: always 550.
redirect "a@b"        the recipient becomes a@b (rcptto, each_rcpt: this recipient;
                      data, spool, set_binding: every recipient); with :copy or a
                      keep the old recipients stay and a@b is added
discard/ec_discard    the sender sees success; the message is marked discarded
                      (``vctx.discard()``: 250 to the client, nothing spooled)
keep/ec_keep          accept; later hooks and phases still run
runtime error         runtime_error = fail: ``451 4.3.0``; continue: ignored
                      (``ec_error_mode`` changes it for the rest of the run)
====================  ==========================================================

A phase that ends with a 4xx/5xx counts a rejection for the peer in the audit
series (policy/audit.py). Scripts configured as files (cache.ScriptFile) are
re-read once their ``cache_life`` has passed.

In each_rcpt a refusal fails that recipient only (the session drops it). Never
raises: a broken script is logged and becomes the runtime_error disposition.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..phases import CONTINUE, DONE
from ..vctx import ValidationContext
from .cache import ScriptFile
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
    phase1: CompiledScript | ScriptFile | None = None
    phase2: CompiledScript | ScriptFile | None = None


@dataclass
class PhaseOutcome:
    """What the phase decided; ``reply`` is (code, text) or None for no opinion."""

    outcome: Outcome | None
    reply: tuple[int, str] | None = None
    disconnect: bool = False
    errors: list[str] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)


def build_view(phase: str, host: PolicyHost, message: Any = None) -> MessageView:
    """The message the scripts read: the real one in data phases, an empty one before.

    In data phases the view starts from the message's head (trace + header block +
    empty line); the body is joined only if a script reads it. The head and the header
    index are kept on the InboundMessage (``_sieve_head``) and reused by the next
    phases as long as the session has not replaced those bytes (identity check).
    """
    envelope_to = getattr(host.recipient, "address", "") if host.recipient is not None else ""
    if not envelope_to and message is not None:
        recipients = getattr(message.envelope, "recipients", [])
        envelope_to = recipients[0].address if recipients else ""
    auth = host.vctx.conn.get("auth_user", "")
    if message is None or phase not in MESSAGE_PHASES:
        return MessageView(b"", host.mail_from, envelope_to, auth)
    parts = getattr(message, "header_block", None)
    if parts is None:  # not an smtp.accept.InboundMessage: only data() is known
        return MessageView(message.data(), host.mail_from, envelope_to, auth)
    trace, block, separator = message.trace, message.header_block, message.separator
    cached = message.__dict__.get("_sieve_head")
    if cached is None or cached[0] is not trace or cached[1] is not block or cached[2] is not separator:
        head = trace + block + separator if trace else block + separator
        cached = message.__dict__["_sieve_head"] = (trace, block, separator, head, [])
    return MessageView.of_parts(cached[3], message.size, message.data, cached[4],
                                host.mail_from, envelope_to, auth)


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
        if script.__class__ is ScriptFile:
            script = script.current()
        host.script_label = f"{scripts.phase}_{label}"
        run = run_script(script, view, limits, host)
        result.actions = run.actions
        if run.error is None and run.plain and host.outcome is None:
            continue  # only the implicit keep: no redirect, no outcome (the usual case)
        if run.error is not None:
            text = run.message or f"{script.name}: runtime error"
            result.errors.append(text)
            host.log(text)
            host.counters.inc(f"{host.script_label}:runtime-error")
            if (host.error_mode or runtime_error) != "continue":
                result.outcome = Outcome("action", 451, "4.3.0 policy script error, try again later")
                break
            host.outcome = None
            continue
        apply_redirects(run.actions, host)
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


def apply_redirects(actions: list[dict], host: PolicyHost) -> None:
    """Momentum's redirect changes the envelope recipient (see the module docstring)."""
    targets = [a["address"] for a in actions if a["action"] == "redirect"]
    if not targets or host.message is None and host.recipient is None:
        return
    from ...core.envelope import Recipient
    keep = any(a["action"] in ("keep", "fileinto") for a in actions)
    vctx, current = host.vctx, host.recipient
    if current is not None:
        extra = targets
        if not keep:
            current.address, extra = targets[0], targets[1:]
        for address in extra:
            vctx.add_recipient(Recipient(address))
    else:
        vctx.recipients = (list(vctx.recipients) if keep else []) + [Recipient(t) for t in targets]
    host.notes.append(f"redirect -> {', '.join(targets)}")


def send_reject_notice(result: PhaseOutcome, host: PolicyHost, *, hostname: str | None = None,
                       mailer_daemon: str | None = None) -> bool:
    """After the message is in, turn a reject into a notice to the sender; False if
    there is nobody to notify (null sender) or the notice cannot be spooled."""
    from .reject_notice import build_reject_notice
    vctx, outcome = host.vctx, result.outcome
    if not host.mail_from or host.message is None or outcome is None:
        return False
    refused = [host.recipient] if host.recipient is not None else list(vctx.recipients)
    reason = (result.reply or (550, outcome.text))[1]
    data = build_reject_notice(host.mail_from, [r.address for r in refused], reason,
                               host.message.data(), hostname=hostname, mailer_daemon=mailer_daemon,
                               message_id=host.message_id)
    try:
        host.inject("", [host.mail_from], data)
    except Exception as exc:  # noqa: BLE001 - no notice: fall back to the 550
        host.log(f"sieve: cannot spool the rejection notice for {host.message_id}: {exc}")
        return False
    if host.recipient is not None and len(vctx.recipients) > 1:
        vctx.recipients = [r for r in vctx.recipients if r is not host.recipient]
    else:
        vctx.discard()
    return True


def apply_to_vctx(result: PhaseOutcome, vctx: ValidationContext, host: PolicyHost | None = None,
                  *, reject_mode: str = "550", hostname: str | None = None,
                  mailer_daemon: str | None = None) -> int:
    """Leave the decision on the vctx for the session; returns CONTINUE or DONE."""
    outcome = result.outcome
    if outcome is not None and outcome.kind == "discard":
        vctx.discard()
        return DONE
    if (outcome is not None and outcome.kind == "reject" and reject_mode == "mdn"
            and host is not None and host.phase in MESSAGE_PHASES
            and send_reject_notice(result, host, hostname=hostname, mailer_daemon=mailer_daemon)):
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


def host_for(vctx: ValidationContext, phase: str, args: tuple, *,
             template: dict[str, Any] | None = None, **fields: Any) -> tuple[PolicyHost, Any]:
    """A PolicyHost for a hook call: picks the message and recipient out of the phase args.

    ``template`` (PolicyHost.template, built once per hook) replaces ``fields``."""
    message = recipient = None
    if phase in MESSAGE_PHASES and args:
        message = args[0]
        if phase == "each_rcpt" and len(args) > 1:
            recipient = args[1]
    elif phase == "rcptto" and len(args) > 1:
        recipient = args[1]
    if template is not None:
        host = PolicyHost.from_template(template, vctx, phase, message, recipient)
    else:
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
    import time

    phase = scripts.phase
    config = ctx.config
    app = ctx.app
    spool_base = getattr(getattr(app, "spool", None), "base", None)
    hostname = mailer_daemon = None
    try:
        hostname, mailer_daemon = config.get("hostname"), config.get("mailerdaemon")
    except (KeyError, AttributeError):
        pass

    template = PolicyHost.template(config=config, counters=inst.counters, throttles=inst.throttles,
                                  log=ctx.log, spool_base=spool_base, app=app, audit=inst.audit,
                                  shared_throttles=inst.shared_throttles)

    message_phase = phase in MESSAGE_PHASES

    def sieve_hook(vctx: ValidationContext, *args: Any) -> int:
        if message_phase and args:  # host_for's data-phase case, inline (once per message)
            message = args[0]
            recipient = args[1] if phase == "each_rcpt" and len(args) > 1 else None
            host = PolicyHost.from_template(template, vctx, phase, message, recipient)
            envelope = message.envelope
            host.mail_from, host.message_id = envelope.mail_from, message.id
            host.peer_ip, host.peer_port = envelope.peer_ip or "", envelope.peer_port or 0
        else:
            host, message = host_for(vctx, phase, args, template=template)
        view = build_view(phase, host, message)
        result = run_phase(scripts, host, view, runtime_error=inst.runtime_error)
        if result.reply is not None and result.reply[0] >= 400 and inst.audit is not None:
            inst.audit.record("rejections", vctx.get("conn", "peer_ip") or "", time.monotonic())
        return apply_to_vctx(result, vctx, host, reject_mode=inst.reject_mode, hostname=hostname,
                             mailer_daemon=mailer_daemon)
    return sieve_hook
