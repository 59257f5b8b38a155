"""The ``counter`` and ``cache list|stat|stats`` console commands.

Who calls it: commands_all.register_console_commands. ``counter`` lists the message
counters of ecelerity/stats.py by dotted name (``global.received``,
``binding.default.delivered``, ``domain.example.com.failed``) plus the TLS server-context
builds of smtp/tls.py, and ``counter reset [NAME]`` zeroes all or one of the message counters.
``cache`` reports the daemon's caches: the PCRE compile cache (core/pcre_stream.py), the
Sieve script cache (policy/sieve), the inbound TLS context cache (smtp/tls.py) and, when the
delivery engine runs, the DNS cache. Reads only, except ``counter reset``; never blocks.
"""
from __future__ import annotations

import fnmatch
from typing import Any

from ecelerity import stats as stats_mod

from .commands_util import app_stats, delivery_engine, usage
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


def _message_counters(ctx: CommandContext) -> dict[str, int]:
    stats = app_stats(ctx)
    found = {f"global.{kind}": stats.total.get(kind) for kind in stats_mod.KINDS}
    for scope, table in (("binding", stats.by_binding), ("domain", stats.by_domain)):
        for name in sorted(table):
            found.update({f"{scope}.{name}.{kind}": table[name].get(kind) for kind in stats_mod.KINDS})
    return found


def _all_counters(ctx: CommandContext) -> dict[str, int]:
    from ecelerity.smtp import tls

    return {**_message_counters(ctx), "tls.server_contexts_built": tls.contexts_built}


def _render_counters(rows: dict[str, int]) -> list[str]:
    if not rows:
        return ["no counter matches"]
    width = max(len(name) for name in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows.items()]


def cmd_counter(ctx: CommandContext) -> CommandResult:
    args = ctx.args
    if not args or args[0].lower() == "list":
        pattern = args[1] if len(args) > 1 else "*"
        if len(args) > 2:
            raise usage(ctx)
        rows = {k: v for k, v in _all_counters(ctx).items() if fnmatch.fnmatchcase(k, pattern)}
        return CommandResult(rows, _render_counters)
    if args[0].lower() != "reset" or len(args) > 2:
        raise usage(ctx)
    stats = app_stats(ctx)
    if len(args) == 1:
        stats.reset()
        return CommandResult({"reset": "all"}, lambda d: "all message counters reset")
    name = args[1]
    scope, _, rest = name.partition(".")
    target, _, kind = rest.rpartition(".")
    totals = None
    if scope == "global" and not target:
        kind, totals = rest, stats.total
    elif scope == "binding":
        totals = stats.by_binding.get(target)
    elif scope == "domain":
        totals = stats.by_domain.get(target.lower())
    if totals is None or kind not in stats_mod.KINDS:
        raise CommandError(404, f"counter: no resettable counter '{name}' (see 'counter list')")
    totals.counts[kind] = 0
    return CommandResult({"reset": name}, lambda d: f"counter {name} reset")


def _caches(ctx: CommandContext) -> dict[str, dict[str, Any]]:
    from ecelerity.core import pcre_stream
    from ecelerity.policy.sieve import compiler
    from ecelerity.smtp import tls

    caches: dict[str, dict[str, Any]] = {
        "pcre": {"entries": len(pcre_stream.default_cache), "max_entries": pcre_stream.default_cache.size,
                 "ttl_seconds": pcre_stream.default_cache.ttl,
                 "holds": "compiled PCRE patterns (Sieve :regex, Lua pcre, policy)"},
        "sieve_scripts": {"entries": len(compiler.SCRIPT_CACHE.entries),
                          "max_entries": compiler.SCRIPT_CACHE.size, "holds": "compiled Sieve scripts"},
        "tls_server_contexts": {"entries": len(tls._cache), "max_entries": tls.CACHE_SIZE,
                                "built": tls.contexts_built, "holds": "inbound TLS SSLContexts"},
    }
    resolver = getattr(delivery_engine(ctx), "dns", None)
    if resolver is not None:
        caches["dns"] = {"entries": resolver.cache_size(), "max_entries": resolver.max_entries,
                         "holds": "DNS answers (see dns_cache)"}
    return caches


def _render_caches(caches: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"{'Name':<22}{'Entries':>9}{'Max':>9}  Holds"]
    for name, row in caches.items():
        lines.append(f"{name:<22}{row['entries']:>9}{row['max_entries']:>9}  {row['holds']}")
    return lines


def _render_cache_details(caches: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for name, row in caches.items():
        lines.append(f"Cache {name}:")
        lines.extend(f"  {key.replace('_', ' ').capitalize()}: {value}" for key, value in row.items())
    return lines


def cmd_cache_list(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise usage(ctx)
    return CommandResult(_caches(ctx), _render_caches)


def cmd_cache_stat(ctx: CommandContext) -> CommandResult:
    caches = _caches(ctx)
    if len(ctx.args) != 1:
        raise usage(ctx)
    if ctx.args[0] not in caches:
        raise CommandError(404, f"cache stat: no cache '{ctx.args[0]}'; caches: {', '.join(caches)}")
    return CommandResult({ctx.args[0]: caches[ctx.args[0]]}, _render_cache_details)


def cmd_cache_stats(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise usage(ctx)
    return CommandResult(_caches(ctx), _render_cache_details)


def register_counter_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text, usage_text in [
        ("counter", cmd_counter, "list or reset counters", "counter [list [PATTERN]] | counter reset [NAME]"),
        ("cache list", cmd_cache_list, "list all caches along with their associated attributes",
         "cache list"),
        ("cache stat", cmd_cache_stat, "show detailed cache statistics for the specified cache",
         "cache stat <name>"),
        ("cache stats", cmd_cache_stats, "show cache statistics", "cache stats"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
