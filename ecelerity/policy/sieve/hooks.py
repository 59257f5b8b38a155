"""``hook "name" { source = ... }`` stanzas of a sieve instance: scripts run on core events.

modules/sieve.py calls attach_hooks() at load. Available hooks are the queue
manager's delivery outcomes (queue/manager.py observers), by their Momentum names
(with or without the ``core_`` prefix):

=================================  ==============================================
core_log_permanent_failure_v1      a recipient failed (bounce or expiry)
core_log_transient_failure_v1      a delivery attempt was deferred (4xx)
core_log_delivery_v1               a recipient was delivered
=================================  ==============================================

The script sees the message as spooled (headers and body), its envelope (``envelope
"from"/"to"``, ``ec_get_message_*``), the reception's context (``vctx_conn_get``,
``vctx_mess_get``) plus ``vctx_mess_get "delivery_outcome"`` (failed | transient |
delivered) and ``"delivery_response"`` (the response text). It can log, count,
write files and maildirs and inject messages; SMTP dispositions mean nothing here
and are ignored. ``async = false`` runs it inside the queue's call (delivery waits);
by default it runs in its own greenlet. Other hook names (e.g.
delay_dsn_send_notification: the queue has no notification point for delay DSNs)
give a load warning and are ignored. Never raises into the queue manager.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..vctx import ValidationContext
from .engine import run_script
from .host import PolicyHost
from .message_view import MessageView

OUTCOME_OF_HOOK = {
    "log_permanent_failure_v1": "failed",
    "log_transient_failure_v1": "transient",
    "log_delivery_v1": "delivered",
}


@dataclass
class HookScript:
    """One configured hook: the core event, the compiled script, run inline or not."""

    name: str
    outcome: str
    script: Any          # CompiledScript or cache.ScriptFile
    inline: bool = False


def outcome_of(hook_name: str) -> str | None:
    """The queue outcome a Momentum hook name stands for, or None if not available."""
    return OUTCOME_OF_HOOK.get(hook_name.lower().removeprefix("core_"))


def run_hook(hook: HookScript, app: Any, message: Any, detail: str, *, counters: Any,
             log: Callable[[str], None], audit: Any = None) -> PolicyHost:
    """Run the hook's script for one spooled recipient-message; returns the host used."""
    from .cache import ScriptFile
    envelope = message.envelope
    vctx = ValidationContext(can_tarpit=False)
    vctx.conn.update(getattr(envelope, "conn_context", {}) or {})
    vctx.mess.update(getattr(envelope, "mess_context", {}) or {})
    vctx.mess["delivery_outcome"], vctx.mess["delivery_response"] = hook.outcome, detail
    host = PolicyHost(vctx, phase="hook", script_label=f"hook:{hook.name}", config=app.config,
                      message=message, recipient=message.recipient, mail_from=envelope.mail_from,
                      peer_ip=envelope.peer_ip or "", message_id=message.id, counters=counters,
                      log=log, can_sleep=False, app=app, audit=audit)
    body = b""
    spool = getattr(app, "spool", None)
    if spool is not None:
        try:
            body = spool.read_body(message)
        except Exception as exc:  # noqa: BLE001 - the script still runs, without the body
            log(f"sieve hook {hook.name}: cannot read {message.id} from the spool: {exc}")
    script = hook.script.current() if isinstance(hook.script, ScriptFile) else hook.script
    result = run_script(script, MessageView(body, envelope.mail_from, message.recipient.address),
                        host=host)
    counters.inc(f"hook:{hook.name}:runs")
    if result.error is not None:
        counters.inc(f"hook:{hook.name}:runtime-error")
        log(result.message or f"sieve hook {hook.name}: runtime error")
    return host


def attach_hooks(ctx: Any, hooks: list[HookScript], *, counters: Any, audit: Any = None) -> int:
    """Observe the queue manager for every hook; returns how many were attached."""
    manager = getattr(ctx.app, "queue_manager", None)
    if manager is None or not hooks:
        if hooks:
            ctx.log("sieve hooks need the queue manager, which is not running; hooks ignored")
        return 0
    import gevent

    def observe(outcome: str, message: Any, detail: str, *rest: Any) -> None:
        for hook in hooks:
            if hook.outcome != outcome:
                continue
            if hook.inline:
                _safe_run(hook, message, detail)
            else:
                gevent.spawn(_safe_run, hook, message, detail)

    def _safe_run(hook: HookScript, message: Any, detail: str) -> None:
        try:
            run_hook(hook, ctx.app, message, detail, counters=counters, log=ctx.log, audit=audit)
        except Exception as exc:  # noqa: BLE001 - a hook script must never break the queue
            ctx.log(f"sieve hook {hook.name} failed: {type(exc).__name__}: {exc}")

    manager.observers.append(observe)

    def detach() -> None:
        if observe in manager.observers:
            manager.observers.remove(observe)
    ctx.on_unload(detach)
    return len(hooks)
