"""Console commands about one domain or one message: ``domain``, ``domain all``, ``message details``.

Who calls it: the command registry (``register_domain_commands``). Layouts follow
Momentum (momentum-facts.md §3.4 and §3.6): the explicit ``Domain x { ... }`` block,
the delivery route (gateway, routes, or the MX hosts the DNS cache holds), queue
sizes, delivery counters and active connections; ``message details`` the stored
record of one queued message. Read-only; a DNS lookup is bounded by a short timeout
so the console never waits long, and runs in the connection's greenlet (not the hub).
"""
from __future__ import annotations

from typing import Any

import gevent

from ecelerity.config.dump import raw_text

from .commands_util import app_stats, dns_resolver, format_time, queue_admin, usage
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult

DNS_TIMEOUT = 2.0


def _explicit_settings(cfg: Any, domain: str) -> list[tuple[str, str]]:
    pairs = []
    for stanza in cfg.root.child_stanzas("domain"):
        if stanza.name is not None and stanza.name.lower() == domain:
            pairs += [(s.name, raw_text(s.value)) for s in stanza.settings]
    return pairs


def _route(ctx: CommandContext, domain: str) -> dict[str, Any]:
    cfg = ctx.app.config
    gateway = cfg.get("gateway", domain=domain)
    if gateway is not None:
        port = gateway.port or cfg.get("remote_smtp_port", domain=domain)
        return {"kind": "gateway", "gateway": f"{gateway.host}:{port}", "mx": []}
    routes = cfg.get("routes", domain=domain)
    if routes:
        return {"kind": "routes", "routes": list(routes), "mx": []}
    try:
        resolver = dns_resolver(ctx)
    except CommandError:
        return {"kind": "mx", "mx": [], "error": "no DNS resolver"}
    try:
        with gevent.Timeout(DNS_TIMEOUT):
            hosts = resolver.resolve_mx(domain)
    except gevent.Timeout:
        return {"kind": "mx", "mx": [], "error": f"DNS lookup timed out after {DNS_TIMEOUT:g}s"}
    except Exception as exc:  # noqa: BLE001 - a DnsError is shown, never raised
        return {"kind": "mx", "mx": [], "error": f"{getattr(exc, 'code', '')} {exc}".strip()}
    return {"kind": "mx", "mx": [{"preference": h.preference, "host": h.name,
                                  "addresses": list(h.addresses)} for h in hosts]}


def domain_data(ctx: CommandContext, domain: str, *, with_route: bool = True) -> dict[str, Any]:
    domain = domain.lower()
    rows = queue_admin(ctx).stats(domain=domain)
    totals = app_stats(ctx).domain(domain)
    return {
        "domain": domain,
        "config": _explicit_settings(ctx.app.config, domain),
        "route": _route(ctx, domain) if with_route else None,
        "active": sum(r.active for r in rows), "delayed": sum(r.delayed for r in rows),
        "deliveries": sum(r.delivered for r in rows),
        "failures": sum(r.permanent_failures for r in rows),
        "transient_failures": sum(r.transient_failures for r in rows),
        "received": totals.get("received"),
        "active_connections": sum(r.in_flight for r in rows),
        "last_error": next((r.last_error for r in rows if r.last_error), None),
        "bindings": [{"binding": r.binding, "active": r.active, "delayed": r.delayed,
                      "in_flight": r.in_flight, "suspended": r.suspended} for r in rows],
    }


def render_domain(d: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if d["config"]:
        lines.append(f"Domain {d['domain']} {{")
        lines += [f"  {name} = {value}" for name, value in d["config"]]
        lines.append("}")
    route = d["route"]
    if route is not None:
        if route["kind"] == "gateway":
            lines.append(f"Domain '{d['domain']}' is routed to gateway {route['gateway']}")
        elif route["kind"] == "routes":
            lines.append(f"Domain '{d['domain']}' has routes: {' '.join(route['routes'])}")
        elif route.get("error"):
            lines.append(f"Domain '{d['domain']}': no MX information ({route['error']})")
        else:
            lines.append(f"Domain '{d['domain']}' has {len(route['mx'])} MXs")
            for mx in route["mx"]:
                lines.append(f"  [{mx['preference']} {mx['host']}]")
                lines += [f"        [{ip}] {'IPv6' if ':' in ip else 'IPv4'}" for ip in mx["addresses"]]
    lines += ["Queue:", f"\tActive: {d['active']:10d}", f"\tDelayed: {d['delayed']:9d}",
              f"Deliveries: {d['deliveries']:9d}", f"Failures: {d['failures']:11d}",
              f"Active Connections: {d['active_connections']}"]
    if d["last_error"]:
        lines.append(f"Last Error: {d['last_error']}")
    return lines


def cmd_domain(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) != 1:
        raise usage(ctx)
    return CommandResult(domain_data(ctx, ctx.args[0]), render_domain)


def cmd_domain_all(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise usage(ctx)
    domains = sorted({row.domain for row in queue_admin(ctx).stats()})
    data = [domain_data(ctx, name, with_route=False) for name in domains]

    def render(rows: list[dict[str, Any]]) -> list[str]:
        lines = [f"{'Domain':<40}{'Active':>8}{'Delayed':>9}{'Delivered':>11}{'Failed':>8}{'Conns':>7}"]
        lines += [f"{r['domain']:<40}{r['active']:>8}{r['delayed']:>9}{r['deliveries']:>11}"
                  f"{r['failures']:>8}{r['active_connections']:>7}" for r in rows]
        return lines

    return CommandResult(data, render)


# -- message details ------------------------------------------------------------------------
def cmd_message_details(ctx: CommandContext) -> CommandResult:
    args = list(ctx.args)
    mode = "summary"
    if args and args[0].lower() in ("full", "body"):
        mode = args.pop(0).lower()
    if len(args) != 1:
        raise usage(ctx)
    admin = queue_admin(ctx)
    entry = admin.manager.entry(args[0])
    if entry is None:
        raise CommandError(404, f"message details: no queued message '{args[0]}'")
    if entry.state == "in_flight":
        raise CommandError(550, f"message details: message '{args[0]}' is being delivered right now")
    message, env = entry.message, entry.message.envelope
    via = f"{env.protocol.upper()} {env.peer_ip} ({'IPv6' if ':' in env.peer_ip else 'IPv4'})" \
        if env.peer_ip else env.protocol.upper()
    data: dict[str, Any] = {
        "id": message.id, "batch_id": message.batch_id, "state": entry.state,
        "binding": entry.key[0], "domain": entry.key[1],
        "type": "full message", "created": message.created,
        "next_attempt": admin.due_at(entry) or message.next_attempt, "retries": message.retries,
        "received_via": via, "sender": env.mail_from, "recipient": message.recipient.address,
        "code": message.last_error, "size": message.size,
    }
    if mode in ("full", "body"):
        data["connection_context"] = dict(env.conn_context)
        data["message_context"] = dict(env.mess_context)
    if mode == "body":
        spool = getattr(ctx.app, "spool", None) or admin.manager.spool
        data["body"] = spool.read_body(message).decode("utf-8", errors="replace")
    return CommandResult(data, _render_details)


def _render_details(d: dict[str, Any]) -> list[str]:
    lines = [f"Message: {d['id']}", f"Message Type: {d['type']}"]
    for label, value in [("Created", format_time(d["created"])),
                         ("Next Attempt", format_time(d["next_attempt"])),
                         ("Retries", d["retries"]), ("Received Via", d["received_via"]),
                         ("Sender", d["sender"]), ("Recipient", d["recipient"]),
                         ("Code", d["code"] or ""), ("Size", d["size"]),
                         ("Queue", f"{d['state']}/{d['binding']}")]:
        lines.append(f"{label:>22}: {value}")
    for key, title in (("connection_context", "Connection Context"),
                       ("message_context", "Message Context")):
        if key in d:
            pairs = " ".join(f"{k}={v!r}" for k, v in sorted(d[key].items()))
            lines.append(f"{title:>22}: [{pairs}]")
    if "body" in d:
        lines += ["", *d["body"].splitlines()]
    return lines


def register_domain_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text, usage_text in [
        ("domain", cmd_domain, "show domain statistics", "domain <domain>"),
        ("domain all", cmd_domain_all, "show statistics for all domains", "domain all"),
        ("message details", cmd_message_details, "show detailed message information",
         "message details [full|body] <message id>"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
