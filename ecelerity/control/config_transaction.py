"""Console configuration transactions: ``config begin``, ``config commit``, ``config rollback``.

Who calls it: the command registry (``register_config_transaction_commands``) and
commands_config.py, whose ``config set``/``config unset`` stage their change here
(``open_transaction(app)``) instead of swapping a new Config in while a transaction is open.

Model: one transaction per daemon (``app.config_transaction``), like Momentum's: ``config
begin`` opens it over the running tree; each staged set/unset is applied to the
transaction's own copy of the tree and validated at once (a bad value is refused with
the validator's message and not staged); ``config commit`` validates the whole result
and puts it in force with ONE swap (services see a single ``reload(old, new)``);
``config rollback`` forgets the staged changes. When the running Config was replaced
meanwhile (``config reload``), commit replays the staged changes onto the new tree and
validates again. A failed commit keeps the transaction open (fix it, or roll back).
Never changes the running configuration before commit, never touches files.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from ecelerity.config.dump import raw_text
from ecelerity.config.tree import Stanza, Value

from .commands_core import path_string
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult

Path = list[tuple[str, str | None]]
Change = tuple[Path, list[str], str, "Value | None"]


@dataclass
class Transaction:
    """Staged console changes over the Config that was in force at ``config begin``."""

    began_by: str
    began_at: float
    base: Any  # the Config in force at begin
    root: Stanza  # base's tree with every staged change applied
    changes: list[Change] = field(default_factory=list)

    def describe(self) -> list[dict[str, Any]]:
        return [{"scope": path_string(path) or "global", "option": option,
                 "value": raw_text(value) if value is not None else None}
                for path, _spellings, option, value in self.changes]


def open_transaction(app: Any) -> Transaction | None:
    """The daemon's open transaction, or None."""
    txn = getattr(app, "config_transaction", None)
    return txn if isinstance(txn, Transaction) else None


def stage(app: Any, change: Change) -> Transaction:
    """Apply ``change`` to the open transaction's tree after validating the result.

    CommandError (the validator's message) leaves the transaction as it was."""
    from .commands_config import apply_change, build_config

    txn = open_transaction(app)
    if txn is None:
        raise CommandError(400, "config: no transaction is open; 'config begin' first")
    root = copy.deepcopy(txn.root)
    path, spellings, option, value = change
    apply_change(root, path, spellings, option, value)
    build_config(txn.base, root)  # raises with every validation error
    txn.root = root
    txn.changes.append(change)
    return txn


def _who(ctx: CommandContext) -> str:
    identity = ctx.extra.get("identity")
    user = getattr(identity, "user", "") or ""
    peer = getattr(identity, "peer", "") or ctx.peer or "console"
    return f"{user}@{peer}" if user else peer


def cmd_config_begin(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise CommandError(400, f"usage: {ctx.command.usage}")
    app = ctx.app
    txn = open_transaction(app)
    if txn is not None:
        raise CommandError(400, f"config begin: a transaction is already open (begun by {txn.began_by}, "
                                f"{len(txn.changes)} change(s) staged); commit or rollback it first")
    txn = Transaction(_who(ctx), time.time(), app.config, copy.deepcopy(app.config.root))
    app.config_transaction = txn
    return CommandResult({"transaction": "open", "began_by": txn.began_by},
                         lambda d: "transaction begun: config set/unset are staged until "
                                   "'config commit' (or 'config rollback')")


def cmd_config_commit(ctx: CommandContext) -> CommandResult:
    from .commands_config import apply_change, build_config, changes_in_force, swap_config

    if ctx.args:
        raise CommandError(400, f"usage: {ctx.command.usage}")
    app = ctx.app
    txn = open_transaction(app)
    if txn is None:
        raise CommandError(400, "config commit: no transaction is open")
    staged = txn.describe()
    if not txn.changes:
        app.config_transaction = None
        return CommandResult({"committed": 0, "changes": []}, lambda d: "nothing to commit; transaction closed")
    root = txn.root
    if app.config is not txn.base:  # reloaded meanwhile: replay onto what is in force now
        root = copy.deepcopy(app.config.root)
        for path, spellings, option, value in txn.changes:
            apply_change(root, path, spellings, option, value)
    try:
        new_cfg = build_config(app.config, root)
    except CommandError as exc:
        raise CommandError(exc.status, f"{exc.text} (commit refused; the transaction stays open)",
                           exc.body) from None
    before = changes_in_force(app)
    swap_config(app, new_cfg, f"console: config commit of {len(txn.changes)} change(s)")
    app.console_changes = (new_cfg, before + txn.changes)
    app.config_transaction = None
    return CommandResult({"committed": len(staged), "changes": staged},
                         lambda d: [f"{d['committed']} change(s) committed"]
                         + [_line(c) for c in d["changes"]])


def cmd_config_rollback(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise CommandError(400, f"usage: {ctx.command.usage}")
    app = ctx.app
    txn = open_transaction(app)
    if txn is None:
        raise CommandError(400, "config rollback: no transaction is open")
    app.config_transaction = None
    dropped = txn.describe()
    return CommandResult({"discarded": len(dropped), "changes": dropped},
                         lambda d: [f"transaction rolled back: {d['discarded']} change(s) discarded"]
                         + [_line(c) for c in d["changes"]])


def _line(change: dict[str, Any]) -> str:
    if change["value"] is None:
        return f"  {change['option']} unset in {change['scope']}"
    return f"  {change['option']} = {change['value']} in {change['scope']}"


def register_config_transaction_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text in [
        ("config begin", cmd_config_begin, "begin a configuration transaction (set/unset are staged)"),
        ("config commit", cmd_config_commit, "validate and apply the staged changes at once"),
        ("config rollback", cmd_config_rollback, "discard the staged changes"),
    ]:
        registry.register(name, handler, help_text, usage=name, replace=True)
