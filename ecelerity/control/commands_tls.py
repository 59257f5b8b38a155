"""Console commands ``tls`` (TLS figures) and ``tls flush`` (drop the server context cache).

Who calls it: the command registry (``register_tls_commands``). Figures: inbound
handshakes ok/failed from the App's stats (counted by smtp/tls.py), outbound STARTTLS
handshakes ok/failed of this process (delivery/client.py ``TLS_HANDSHAKES``) and the
server SSLContext cache of smtp/tls.py. Read-only except ``tls flush``, which only
makes the next session rebuild its context (a renewed certificate is picked up anyway).
"""
from __future__ import annotations

from typing import Any

from .commands_util import app_stats
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


def tls_figures(ctx: CommandContext) -> dict[str, Any]:
    from ecelerity.delivery.client import TLS_HANDSHAKES
    from ecelerity.smtp import tls

    totals = app_stats(ctx).total
    return {"inbound": {"handshakes_ok": totals.get("tls_inbound_ok"),
                        "handshakes_failed": totals.get("tls_inbound_failed")},
            "outbound": {"handshakes_ok": TLS_HANDSHAKES["ok"],
                         "handshakes_failed": TLS_HANDSHAKES["failed"]},
            "server_context_cache": tls.cache_info()}


def _render(d: dict[str, Any]) -> list[str]:
    cache = d["server_context_cache"]
    return [f"Inbound TLS handshakes: {d['inbound']['handshakes_ok']} ok, "
            f"{d['inbound']['handshakes_failed']} failed",
            f"Outbound TLS handshakes: {d['outbound']['handshakes_ok']} ok, "
            f"{d['outbound']['handshakes_failed']} failed",
            f"Server TLS context cache: {cache['size']} of {cache['max']} "
            f"({cache['built']} built since start)"]


def cmd_tls(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise CommandError(400, f"tls: unknown subcommand '{ctx.args[0]}'; usage: {ctx.command.usage}")
    return CommandResult(tls_figures(ctx), _render)


def cmd_tls_flush(ctx: CommandContext) -> CommandResult:
    from ecelerity.smtp import tls

    dropped = tls.clear_cache()
    return CommandResult({"dropped": dropped}, lambda d: f"{d['dropped']} TLS context(s) dropped")


def register_tls_commands(registry: CommandRegistry) -> None:
    registry.register("tls", cmd_tls, "TLS handshake figures and the TLS context cache",
                      usage="tls | tls flush", replace=True)
    registry.register("tls flush", cmd_tls_flush, "drop the cached server TLS contexts",
                      usage="tls flush", replace=True)
