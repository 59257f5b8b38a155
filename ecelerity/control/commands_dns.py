"""Console DNS commands: ``dig``, ``dns_cache stats|flush|lookup``, ``refresh domain``.

Who calls it: the command registry (``register_dns_commands``). They use the delivery
engine's DnsResolver (delivery/dns.py), the same cache delivery uses, so ``refresh
domain`` really makes the next delivery look the domain up again. Lookups run in the
connection's greenlet on gevent sockets (never blocking the hub) and are cut off after
DIG_TIMEOUT seconds; a DNS failure is an answer (``550`` with the DNS error), never a
traceback.
"""
from __future__ import annotations

from typing import Any

import gevent

from .commands_util import dns_resolver, usage
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult

DIG_TIMEOUT = 5.0


def _mx(ctx: CommandContext, domain: str) -> list[dict[str, Any]]:
    resolver = dns_resolver(ctx)
    try:
        with gevent.Timeout(DIG_TIMEOUT):
            hosts = resolver.resolve_mx(domain)
    except gevent.Timeout:
        raise CommandError(550, f"{ctx.command.name}: DNS lookup of {domain} timed out "
                                f"after {DIG_TIMEOUT:g}s") from None
    except Exception as exc:  # noqa: BLE001 - DnsError carries the SMTP-style answer
        code = getattr(exc, "code", "")
        raise CommandError(550, f"{ctx.command.name}: {domain}: {code} {exc}".replace("  ", " ")) from None
    return [{"preference": h.preference, "host": h.name, "addresses": list(h.addresses),
             "implicit": h.implicit} for h in hosts]


def _render_mx(domain: str):
    def render(rows: list[dict[str, Any]]) -> list[str]:
        lines = [f"Domain '{domain}' has {len(rows)} MXs"]
        for r in rows:
            lines.append(f"  [{r['preference']} {r['host']}]" + (" (implicit MX)" if r["implicit"] else ""))
            lines += [f"        [{ip}]" for ip in r["addresses"]]
        return lines
    return render


def cmd_dig(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) != 1:
        raise usage(ctx)
    domain = ctx.args[0].lower()
    return CommandResult(_mx(ctx, domain), _render_mx(domain))


def cmd_refresh_domain(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) != 1:
        raise usage(ctx)
    domain = ctx.args[0].lower()
    resolver = dns_resolver(ctx)
    dropped = resolver.forget(domain)
    return CommandResult({"domain": domain, "entries_dropped": dropped},
                         lambda d: f"DNS information for {d['domain']} refreshed "
                                   f"({d['entries_dropped']} cached answers dropped)")


def cmd_dns_cache(ctx: CommandContext) -> CommandResult:
    resolver = dns_resolver(ctx)
    sub = ctx.args[0].lower() if ctx.args else "stats"
    if sub == "stats" and len(ctx.args) <= 1:
        data = {"entries": resolver.cache_size(), "max_entries": resolver.max_entries,
                "queries_sent": resolver.queries_sent, "tcp_queries_sent": resolver.tcp_queries_sent,
                "nameservers": [f"{h}:{p}" for h, p in resolver.nameservers]}
        return CommandResult(data, lambda d: [f"{k.replace('_', ' ').capitalize()}: {v}"
                                              for k, v in d.items()])
    if sub == "flush" and len(ctx.args) == 1:
        count = resolver.cache_size()
        resolver.flush()
        return CommandResult({"entries_dropped": count}, lambda d: f"DNS cache flushed ({count} entries)")
    if sub in ("lookup", "submit") and len(ctx.args) == 2:
        domain = ctx.args[1].lower()
        return CommandResult(_mx(ctx, domain), _render_mx(domain))
    raise usage(ctx)


def register_dns_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text, usage_text in [
        ("dig", cmd_dig, "submit a domain for DNS MX query", "dig <domain>"),
        ("dns_cache", cmd_dns_cache, "manage the DNS cache",
         "dns_cache stats | flush | lookup <domain> | submit <domain>"),
        ("refresh domain", cmd_refresh_domain, "refresh the DNS information for a domain",
         "refresh domain <domain>"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
