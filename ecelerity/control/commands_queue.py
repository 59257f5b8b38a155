"""Console views of the queues: summary, mailq, active, delayed, domain, showqueue, binding ...

Who calls it: the command registry (``register_queue_view_commands``), for operators
and scripts. Layouts follow Momentum's console (momentum-facts.md §3.1-3.5); every
command also answers ``--json`` with the same figures. Figures come from the
QueueAdmin (queue/admin.py), the per-queue counters and ecelerity.stats. Read-only:
never changes a queue (commands_queue_ops.py does), never blocks the hub.
"""
from __future__ import annotations

from typing import Any

from .commands_util import (app_stats, delivery_engine, int_arg, queue_admin, service, take_options,
                            uptime, usage)
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult

MAILQ_LIMIT = 20
SHOWQUEUE_DEFAULT = (100, 0)


def _queue_rows(ctx: CommandContext, *, domain: str | None = None,
                binding: str | None = None) -> list[Any]:
    return queue_admin(ctx).stats(domain=domain, binding=binding)


# -- summary --------------------------------------------------------------------------
def cmd_summary(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise usage(ctx)
    rows = _queue_rows(ctx)
    stats = app_stats(ctx)
    smtp = service(ctx, "smtp")
    dns = getattr(delivery_engine(ctx), "dns", None)
    active = sum(row.active for row in rows)
    delayed = sum(row.delayed for row in rows)
    data = {
        "outbound_concurrency": sum(row.in_flight for row in rows),
        "inbound_concurrency": len(smtp.pool) if smtp is not None else 0,
        "active_domains": len({row.domain for row in rows if row.active or row.in_flight}),
        "active_queue_size": active,
        "delayed_queue_size": delayed,
        "total_queue_size": queue_admin(ctx).total_messages(),
        "dns_resolver": "dnspython" if dns is not None else "none",
        "dns_queries": getattr(dns, "queries_sent", 0),
        "delivered": stats.total.get("delivered"),
        "failed": stats.total.get("failed"),
        "transient_failures": stats.total.get("transient"),
        "rejected": stats.total.get("rejected"),
        "received": stats.total.get("received"),
        "delivery_rate": stats.rate("delivered"),
        "reception_rate": stats.rate("received"),
        "since_reset": int(stats.since_reset()),
        "uptime": int(uptime(ctx)),
    }
    return CommandResult(data, _render_summary)


def _render_summary(d: dict[str, Any]) -> list[str]:
    return [
        "Summary Statistics",
        f"\tOutbound Concurrency: {d['outbound_concurrency']:7d}",
        f"\tInbound Concurrency: {d['inbound_concurrency']:7d}",
        f"\tActive Domains: {d['active_domains']:7d}",
        f"\tActive Queue Size: {d['active_queue_size']:7d}",
        f"\tDelayed Queue Size: {d['delayed_queue_size']:7d}",
        f"\tTotal Queue Size: {d['total_queue_size']:7d}",
        f"\tDNS Resolver: {d['dns_resolver']}",
        f"\tDNS Queries: {d['dns_queries']:7d}",
        f"\tSuccessfully Delivered Messages: {d['delivered']:7d}",
        f"\tFailed Messages: {d['failed']:7d}",
        f"\tTransient Failures: {d['transient_failures']:7d}",
        f"\tRejected Messages: {d['rejected']:7d}",
        f"\tReceived Messages: {d['received']:7d}",
        f"\tDelivery Rate: {d['delivery_rate']:6.2f} messages/second",
        f"\tReception Rate: {d['reception_rate']:6.2f} messages/second",
        f"\tStatistics Last Reset: {d['since_reset']:6d} seconds",
        f"\tUptime: {d['uptime']:6d} seconds",
    ]


def cmd_summary_reset(ctx: CommandContext) -> str:
    app_stats(ctx).reset()
    return "summary statistics reset"


# -- mailq, active, delayed -----------------------------------------------------------
def cmd_mailq(ctx: CommandContext) -> CommandResult:
    options, rest = take_options(ctx, ctx.args, {"--domain": "domain", "-d": "domain",
                                                 "--binding": "binding", "-b": "binding",
                                                 "--limit": "limit", "-l": "limit"})
    if rest:
        raise usage(ctx)
    limit = int_arg(ctx, options["limit"][-1]) if "limit" in options else MAILQ_LIMIT
    domains = {d.lower() for d in options.get("domain", [])}
    bindings = set(options.get("binding", []))
    group_of = ctx.app.config.binding_group_of
    rows = [{"group": _group(group_of, row.binding), "binding": row.binding, "domain": row.domain,
             "aq": row.active, "dq": row.delayed, "deliveries": row.delivered,
             "transfails": row.transient_failures, "permfails": row.permanent_failures}
            for row in _queue_rows(ctx)
            if (not domains or row.domain in domains) and (not bindings or row.binding in bindings)]
    rows.sort(key=lambda r: (-(r["aq"] + r["dq"]), r["binding"], r["domain"]))
    rows = rows[:limit] if limit else rows

    def render(data: dict[str, Any]) -> list[str]:
        lines = [f"{'Group/Binding':<40}{'Domain':>18}{'AQ':>8}{'DQ':>8}", "-" * 74]
        for r in data["QueueSummary"]:
            lines.append(f"{r['group'] + '/' + r['binding']:<40}{r['domain']:>18}{r['aq']:>8}{r['dq']:>8}")
        return lines

    return CommandResult({"QueueSummary": rows}, render)


def _group(group_of: Any, binding: str) -> str:
    try:
        return group_of(binding) or "default"
    except (KeyError, ValueError):
        return "default"


def _threshold_view(ctx: CommandContext, which: str, binding: str | None,
                    args: list[str]) -> CommandResult:
    if len(args) > 1:
        raise usage(ctx)
    threshold = int_arg(ctx, args[0]) if args else 0
    totals: dict[str, int] = {}
    for row in _queue_rows(ctx, binding=binding):
        totals[row.domain] = totals.get(row.domain, 0) + getattr(row, which)
    rows = [{"domain": d, which: n} for d, n in sorted(totals.items(), key=lambda i: (-i[1], i[0]))
            if n > threshold]
    title = f"{which.capitalize()} queue sizes" + (f" on binding {binding}" if binding else "")

    def render(data: list[dict[str, Any]]) -> list[str]:
        return [title + f" (more than {threshold}):"] + [f"{r[which]:>10} {r['domain']}" for r in data]

    return CommandResult(rows, render)


def cmd_active(ctx: CommandContext) -> CommandResult:
    return _threshold_view(ctx, "active", None, ctx.args)


def cmd_delayed(ctx: CommandContext) -> CommandResult:
    return _threshold_view(ctx, "delayed", None, ctx.args)


def cmd_binding_active(ctx: CommandContext) -> CommandResult:
    if not ctx.args:
        raise usage(ctx)
    return _threshold_view(ctx, "active", ctx.args[0], ctx.args[1:])


def cmd_binding_delayed(ctx: CommandContext) -> CommandResult:
    if not ctx.args:
        raise usage(ctx)
    return _threshold_view(ctx, "delayed", ctx.args[0], ctx.args[1:])


# -- binding summary ----------------------------------------------------------------------
def cmd_binding_summary(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) > 1:
        raise usage(ctx)
    cfg = ctx.app.config
    group = None
    if ctx.args and ctx.args[0].startswith("group:"):
        group = ctx.args[0][len("group:"):]
        if group not in cfg.binding_groups():
            raise CommandError(404, f"binding summary: unknown binding group '{group}'")
        names = cfg.bindings_in_group(group)
    elif ctx.args:
        names = [ctx.args[0]]
        if not cfg.has_binding(names[0]) and not _queue_rows(ctx, binding=names[0]):
            raise CommandError(404, f"binding summary: unknown binding '{names[0]}'")
    else:
        names = sorted(set(cfg.bindings()) | {"default"} | {r.binding for r in _queue_rows(ctx)})
    stats = app_stats(ctx)
    up = int(uptime(ctx))
    data = []
    for name in names:
        rows = _queue_rows(ctx, binding=name)
        totals = stats.binding(name)
        data.append({
            "binding": name, "group": group,
            "open_connections": sum(r.in_flight for r in rows),
            "active_queue_size": sum(r.active for r in rows),
            "total_queue_size": len(queue_admin(ctx).messages(binding=name)),
            "delivered": totals.get("delivered"), "failed": totals.get("failed"),
            "received": totals.get("received"),
            "delivery_rate": stats.rate("delivered", totals),
            "reception_rate": stats.rate("received", totals), "uptime": up})
    return CommandResult(data, _render_binding_summary)


def _render_binding_summary(data: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for d in data:
        where = f" in Binding Group {d['group']}" if d["group"] else ""
        lines += [f"Summary Statistics For Binding {d['binding']}{where}",
                  f"\tOpen Connections: {d['open_connections']:7d}",
                  f"\tActive Queue Size: {d['active_queue_size']:7d}",
                  f"\tTotal Queue Size: {d['total_queue_size']:7d}",
                  f"\tSuccessfully Delivered Messages: {d['delivered']:7d}",
                  f"\tFailed Messages: {d['failed']:7d}",
                  f"\tReceived Messages: {d['received']:7d}",
                  f"\tResident Messages: {d['total_queue_size']:7d}",
                  f"\tDelivery Rate: {d['delivery_rate']:6.2f} messages/second",
                  f"\tReception Rate: {d['reception_rate']:6.2f} messages/second",
                  f"\tUptime: {d['uptime']:6d} seconds"]
    return lines


# -- showqueue ----------------------------------------------------------------------------
def cmd_showqueue(ctx: CommandContext) -> CommandResult:
    args = list(ctx.args)
    binding: str | None = None
    if len(args) >= 2 and args[0].lower() == "binding":
        binding = None if args[1].lower() == "all" else args[1]
        args = args[2:]
    if not args or len(args) > 2:
        raise usage(ctx)
    limit, offset = SHOWQUEUE_DEFAULT
    if len(args) == 2:
        parts = args[1].split(",")
        if len(parts) != 2:
            raise usage(ctx)
        limit, offset = int_arg(ctx, parts[0]), int_arg(ctx, parts[1])
    admin = queue_admin(ctx)
    entries = admin.messages(domain=args[0], binding=binding)[offset:offset + limit]
    data = [{"state": e.state, "binding": e.key[0], "id": e.message.id,
             "created": int(e.message.created), "from": e.message.envelope.mail_from,
             "to": e.message.recipient.address} for e in entries]

    def render(rows: list[dict[str, Any]]) -> list[str]:
        lines = []
        for r in rows:
            lines.append(f"[{r['state']}/{r['binding']}] {r['id']} Created: {r['created']}")
            lines.append(f"  From: <{r['from']}> To: <{r['to']}>")
        return lines

    return CommandResult(data, render)


def register_queue_view_commands(registry: CommandRegistry) -> None:
    """Add the read-only queue commands to ``registry``."""
    for name, handler, help_text, usage_text in [
        ("summary", cmd_summary, "show global metrics", "summary"),
        ("summary reset", cmd_summary_reset, "reset summary statistics", "summary reset"),
        ("mailq", cmd_mailq, "show the status of the mail queues",
         "mailq [--domain|-d domain]... [--binding|-b binding]... [--limit|-l n (default 20, 0: all)]"),
        ("active", cmd_active, "show domains with active queue size bigger than threshold",
         "active [threshold]"),
        ("delayed", cmd_delayed, "show domains with delayed queue size bigger than threshold",
         "delayed [threshold]"),
        ("binding active", cmd_binding_active,
         "show domains with active queue size bigger than threshold on a binding",
         "binding active <binding> [threshold]"),
        ("binding delayed", cmd_binding_delayed,
         "show domains with delayed queue size bigger than threshold on a binding",
         "binding delayed <binding> [threshold]"),
        ("binding summary", cmd_binding_summary, "show binding statistics",
         "binding summary [binding | group:<binding group>]"),
        ("showqueue", cmd_showqueue, "show queue information",
         "showqueue [binding <name>|binding all] <domain> [limit,offset (default 100,0)]"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
