"""The ``authz id`` and ``authz roles list`` console commands.

Who calls it: commands_all.register_console_commands. Reads the connection's Identity
(gate.py, in ``ctx.extra["identity"]``) and the config's Authorization roles (authz.py).
Never changes anything and never shows a password verifier.
"""
from __future__ import annotations

from typing import Any

from . import authz
from .registry import CommandContext, CommandRegistry, CommandResult


def cmd_authz_id(ctx: CommandContext) -> CommandResult:
    ident = ctx.extra.get("identity")
    user = getattr(ident, "user", "") or ""
    data: dict[str, Any] = {
        "user": user,
        "roles": list(getattr(ident, "roles", ()) or ()),
        "authenticated": bool(getattr(ident, "authenticated", False)),
        "trusted_listener": bool(getattr(ident, "trusted", True)),
        "authorization": bool(getattr(ident, "authorization", False)),
        "peer": getattr(ident, "peer", ctx.peer),
    }

    def render(d: dict[str, Any]) -> list[str]:
        how = "authenticated" if d["authenticated"] else (
            "trusted listener" if d["trusted_listener"] else "not authenticated")
        lines = [f"User: {d['user'] or '(anonymous)'} ({how}, from {d['peer']})",
                 f"Roles: {' '.join(d['roles']) if d['roles'] else '(none)'}"]
        lines.append("Authorization: " + ("enforced" if d["authorization"] else "not enforced"))
        return lines

    return CommandResult(data, render)


def cmd_authz_roles_list(ctx: CommandContext) -> CommandResult:
    roles = authz.roles_of(getattr(ctx.app, "config", None))
    data = [{"role": r.name, "allow": list(r.allow), "defined_at": r.loc} for r in roles]

    def render(rows: list[dict[str, Any]]) -> list[str]:
        if not rows:
            return ["No roles are defined (Authorization { Role \"name\" { allow = (...) } })"]
        out = []
        for row in rows:
            out.append(f"Role {row['role']}:")
            out.extend(f"  allow {pattern}" for pattern in row["allow"])
        return out

    return CommandResult(data, render)


def register_authz_commands(registry: CommandRegistry) -> None:
    registry.register("authz id", cmd_authz_id, "display the id of the current user",
                      usage="authz id", replace=True)
    registry.register("authz roles list", cmd_authz_roles_list,
                      "display the currently defined roles", usage="authz roles list", replace=True)
