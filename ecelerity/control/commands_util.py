"""Small helpers shared by the console command groups (commands_queue*, _config, _system...).

Who calls it: the ``commands_*.py`` handlers only. It finds the daemon's subsystems on
the App (queue admin, SMTP service, DNS resolver, stats) and turns "not there" into
the console's clear ``501 <command>: <subsystem> is not available ...`` refusal,
parses the small argument forms (integers, ``limit,offset``, ``--flag value``) and
formats times. Never blocks, never changes daemon state.
"""
from __future__ import annotations

import time
from typing import Any

from .registry import CommandContext, CommandError


def unavailable(ctx: CommandContext, what: str) -> CommandError:
    """The 501 a command answers when its subsystem does not exist in this build/daemon."""
    return CommandError(501, f"{ctx.command.name}: {what}")


def usage(ctx: CommandContext) -> CommandError:
    return CommandError(400, f"usage: {ctx.command.usage}")


def queue_admin(ctx: CommandContext) -> Any:
    admin = getattr(ctx.app, "queue_admin", None)
    if admin is None:
        raise unavailable(ctx, "the queue service is not running")
    return admin


def service(ctx: CommandContext, name: str) -> Any | None:
    """The running service called ``name`` (``smtp``, ``modules``...), or None."""
    for candidate in getattr(ctx.app, "services", None) or []:
        if getattr(candidate, "name", None) == name:
            return candidate
    return None


def delivery_engine(ctx: CommandContext) -> Any | None:
    manager = getattr(ctx.app, "queue_manager", None)
    return getattr(manager, "engine", None) if manager is not None else None


def dns_resolver(ctx: CommandContext) -> Any:
    resolver = getattr(delivery_engine(ctx), "dns", None)
    if resolver is None:
        raise unavailable(ctx, "no DNS resolver (the delivery engine is not running)")
    return resolver


def app_stats(ctx: CommandContext) -> Any:
    from ecelerity import stats

    return stats.for_app(ctx.app)


def uptime(ctx: CommandContext) -> float:
    started = getattr(ctx.app, "started_at", None)
    return max(0.0, time.time() - started) if started else app_stats(ctx).uptime()


def int_arg(ctx: CommandContext, text: str, *, minimum: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(400, f"{ctx.command.name}: '{text}' is not a number; "
                                f"usage: {ctx.command.usage}") from None
    if value < minimum:
        raise CommandError(400, f"{ctx.command.name}: '{text}' must be >= {minimum}")
    return value


def take_options(ctx: CommandContext, args: list[str],
                 names: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """``--domain d -d e --limit 5`` -> ({"domain": [d, e], "limit": [5]}, rest).

    ``names`` maps every spelling (``--domain``, ``-d``) to its key.
    """
    found: dict[str, list[str]] = {}
    rest: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        key = names.get(word)
        if key is None:
            rest.append(word)
            index += 1
            continue
        if index + 1 >= len(args):
            raise CommandError(400, f"{ctx.command.name}: {word} needs a value")
        found.setdefault(key, []).append(args[index + 1])
        index += 2
    return found, rest


def format_time(when: float | None) -> str:
    """``2003-12-01 02:15:45`` (local time), as Momentum's message details; '-' when unknown."""
    if not when:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds >= 1.0 else 0.0
