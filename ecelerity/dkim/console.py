"""The ``signing_stats`` and ``signing_stats reset`` console commands.

Registered by control/commands_system.py. They read the daemon's one
dkim.stats.SigningStats (totals and per signing domain: signed, errors, skipped);
without a loaded opendkim module they answer ``501`` (nothing signs). JSON data is
the stats snapshot. Never blocks.
"""
from __future__ import annotations

from typing import Any

from .stats import render, stats_for


def _loaded(ctx: Any) -> Any:
    from ..control.commands_util import unavailable
    from .service import service_for  # dkimpy is imported only once someone asks
    if service_for(ctx.app) is None:
        raise unavailable(ctx, "DKIM signing is not available: no opendkim module is loaded")
    return stats_for(ctx.app)


def cmd_signing_stats(ctx: Any) -> Any:
    from ..control.registry import CommandResult
    return CommandResult(_loaded(ctx).snapshot(), render)


def cmd_signing_stats_reset(ctx: Any) -> str:
    _loaded(ctx).reset()
    return "DKIM signing statistics reset"
