"""Console commands that act on queued mail: fail, flush, retry, reroute, rebind.

Who calls it: the command registry (``register_queue_op_commands``). Each command
calls the QueueAdmin API (queue/admin.py), which finishes its spool writes before
returning, and answers with how many messages it touched (``--json``: the counts).
Messages being delivered right now are left to their delivery result, as in
Momentum. ``reroute queue`` moves messages to another domain's queues (they are
delivered to that domain's route, recipients unchanged); the spool has no field for a
rerouted domain yet, so after a restart a rerouted message goes back to its
recipient's domain. Never blocks the hub beyond the spool writes the admin does.
"""
from __future__ import annotations

from typing import Any

from .commands_util import queue_admin, usage
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


def _counted(verb: str, count: int, where: str) -> CommandResult:
    data = {"action": verb, "messages": count, "where": where}
    return CommandResult(data, lambda d: f"{d['messages']} message(s) {verb} {where}".rstrip())


def _fail_domain(ctx: CommandContext, *, binding_first: bool, quiet: bool) -> CommandResult:
    expected = 2 if binding_first else 1
    if len(ctx.args) != expected:
        raise usage(ctx)
    binding = ctx.args[0] if binding_first else None
    domain = ctx.args[-1]
    count = queue_admin(ctx).fail_domain(domain, binding=binding, quiet=quiet)
    where = f"for {domain.lower()}" + (f" on binding {binding}" if binding else "")
    return _counted("failed quietly" if quiet else "failed", count, where)


def cmd_fail_domain(ctx: CommandContext) -> CommandResult:
    return _fail_domain(ctx, binding_first=False, quiet=False)


def cmd_fail_domain_quiet(ctx: CommandContext) -> CommandResult:
    return _fail_domain(ctx, binding_first=False, quiet=True)


def cmd_binding_fail_domain(ctx: CommandContext) -> CommandResult:
    return _fail_domain(ctx, binding_first=True, quiet=False)


def cmd_binding_fail_domain_quiet(ctx: CommandContext) -> CommandResult:
    return _fail_domain(ctx, binding_first=True, quiet=True)


def _fail_all(ctx: CommandContext, quiet: bool) -> CommandResult:
    if ctx.args:
        raise usage(ctx)
    admin = queue_admin(ctx)
    count = sum(admin.fail_domain(domain, quiet=quiet)
                for domain in sorted({row.domain for row in admin.stats()}))
    return _counted("failed quietly" if quiet else "failed", count, "in all queues")


def cmd_fail_all(ctx: CommandContext) -> CommandResult:
    return _fail_all(ctx, quiet=False)


def cmd_fail_all_quiet(ctx: CommandContext) -> CommandResult:
    return _fail_all(ctx, quiet=True)


def cmd_flush_domain(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) != 1:
        raise usage(ctx)
    count = queue_admin(ctx).flush_domain(ctx.args[0])
    return _counted("scheduled for delivery now", count, f"for {ctx.args[0].lower()}")


def cmd_binding_flush_domain(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) != 2:
        raise usage(ctx)
    binding, domain = ctx.args
    count = queue_admin(ctx).flush_domain(domain, binding=binding)
    return _counted("scheduled for delivery now", count, f"for {domain.lower()} on binding {binding}")


def _one_message(ctx: CommandContext, action: Any, verb: str) -> CommandResult:
    if len(ctx.args) != 1:
        raise usage(ctx)
    message_id = ctx.args[0]
    admin = queue_admin(ctx)
    entry = admin.manager.entry(message_id)
    if entry is None:
        raise CommandError(404, f"{ctx.command.name}: no queued message '{message_id}'")
    if not action(admin, message_id):
        raise CommandError(550, f"{ctx.command.name}: message '{message_id}' is {entry.state}; "
                                f"not {verb}")
    return CommandResult({"id": message_id, "action": verb}, lambda d: f"message {d['id']} {verb}")


def cmd_message_retry(ctx: CommandContext) -> CommandResult:
    return _one_message(ctx, lambda admin, mid: admin.retry_message(mid), "scheduled for delivery now")


def cmd_message_fail(ctx: CommandContext) -> CommandResult:
    return _one_message(ctx, lambda admin, mid: admin.fail_message(mid), "failed")


def cmd_message_fail_quiet(ctx: CommandContext) -> CommandResult:
    return _one_message(ctx, lambda admin, mid: admin.fail_message(mid, quiet=True), "failed quietly")


# -- reroute and rebind -------------------------------------------------------------------
def reroute_domain(admin: Any, domain: str, new_domain: str, *, binding: str | None = None) -> int:
    """Move the queued (not in-flight) messages of ``domain`` to ``new_domain``'s queues."""
    manager = admin.manager
    domain, new_domain = domain.lower(), new_domain.lower()
    entries = [e for e in admin.messages(domain=domain, binding=binding)
               if e.state in ("active", "delayed")]
    for entry in entries:
        state, due_at = entry.state, admin.due_at(entry)
        manager.detach(entry)
        entry.message.domain = new_domain
        target = manager.queue_for(entry.key[0], new_domain)
        if state == "delayed" and due_at is not None:
            manager.to_delayed(entry, target, due_at)
        else:
            manager.to_active(entry, target)
    manager.wake()
    return len(entries)


def cmd_reroute_queue(ctx: CommandContext) -> CommandResult:
    args = list(ctx.args)
    binding = None
    if len(args) == 4 and args[0].lower() == "binding":
        binding, args = args[1], args[2:]
    if len(args) != 2:
        raise usage(ctx)
    if args[0].lower() == args[1].lower():
        raise CommandError(400, "reroute queue: the two domains are the same")
    count = reroute_domain(queue_admin(ctx), args[0], args[1], binding=binding)
    return _counted("rerouted", count, f"from {args[0].lower()} to {args[1].lower()}")


def cmd_rebind(ctx: CommandContext) -> CommandResult:
    """``rebind [binding <b>] [domain <d>] [to <b>]``: with ``to``, move the messages
    there; without, re-run binding assignment on them (QueueAdmin.rebind)."""
    words = [w.lower() for w in ctx.args]
    selection: dict[str, str] = {}
    index = 0
    while index + 1 < len(words) and words[index] in ("binding", "domain", "to"):
        selection[words[index]] = ctx.args[index + 1]
        index += 2
    if index != len(words) or not ({"binding", "domain"} & selection.keys()):
        raise usage(ctx)
    target = selection.get("to")
    try:
        count = queue_admin(ctx).rebind(domain=selection.get("domain"),
                                        binding=selection.get("binding"), to=target)
    except KeyError as exc:
        raise CommandError(404, f"rebind: {exc.args[0]}") from None
    if target is None:
        return _counted("rebound", count, "by binding assignment")
    return _counted("moved", count, f"to binding {target}")


def register_queue_op_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text, usage_text in [
        ("fail domain", cmd_fail_domain, "fail messages for a domain with a bounce message",
         "fail domain <domain>"),
        ("fail domain quiet", cmd_fail_domain_quiet,
         "fail messages for a domain without generating bounces", "fail domain quiet <domain>"),
        ("binding fail domain", cmd_binding_fail_domain,
         "fail messages for a domain on a binding with a bounce message",
         "binding fail domain <binding> <domain>"),
        ("binding fail domain quiet", cmd_binding_fail_domain_quiet,
         "fail messages for a domain on a binding without generating bounces",
         "binding fail domain quiet <binding> <domain>"),
        ("fail all", cmd_fail_all, "fail every queued message with bounces", "fail all"),
        ("fail all quiet", cmd_fail_all_quiet, "fail every queued message without bounces",
         "fail all quiet"),
        ("flush domain", cmd_flush_domain, "perform delivery attempt on delayed queue of a domain",
         "flush domain <domain>"),
        ("binding flush domain", cmd_binding_flush_domain,
         "perform delivery attempt on delayed queue of a domain on a binding",
         "binding flush domain <binding> <domain>"),
        ("message retry", cmd_message_retry, "perform an immediate delivery attempt on a message",
         "message retry <message id>"),
        ("message fail", cmd_message_fail, "fail a message", "message fail <message id>"),
        ("message fail quiet", cmd_message_fail_quiet,
         "fail a message and do not create a non-delivery receipt (NDR)",
         "message fail quiet <message id>"),
        ("reroute queue", cmd_reroute_queue,
         "move messages from queues of one domain to queues of the other",
         "reroute queue [binding <binding>] <domain> <new domain>"),
        ("rebind", cmd_rebind, "rebind the messages in a binding or domain",
         "rebind [binding <binding>] [domain <domain>] [to <binding>]"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
