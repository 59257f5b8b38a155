"""Console authorization: Momentum's ``Authorization { Role "name" { allow = (...) } }`` rules.

Who calls it: server.py (``check`` before a command runs on a listener with
``Enable_Authorization = true``) and the ``authz`` console commands (commands_authz.py).

A user is allowed to run a command line when, for the user's own name or one of its
roles (in the order: user name, then roles as listed in the password file), a ``Role``
of that name has an ``allow`` pattern (a regular expression searched in the command line)
that matches. No matching rule means denied. ``authz id`` is always allowed so a user can
see who the channel thinks they are. Reads the parse tree only; never changes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ALWAYS_ALLOWED = ("authz id",)


@dataclass(frozen=True)
class Role:
    name: str
    allow: tuple[str, ...]
    loc: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    role: str  # the role (or user name) whose rule matched, "" when none
    pattern: str


def _texts(value: Any) -> list[str]:
    items = getattr(value, "items", None)
    if isinstance(items, list):
        return [t for item in items for t in _texts(item)]
    text = getattr(value, "text", None)
    return [text] if isinstance(text, str) else []


def roles_from_tree(root: Any) -> list[Role]:
    """Every ``Role`` stanza of every global ``Authorization`` stanza, in file order."""
    roles: list[Role] = []
    for authz in root.child_stanzas("authorization") if root is not None else []:
        for stanza in authz.child_stanzas("role"):
            patterns = [p for setting in stanza.find_settings("allow") for p in _texts(setting.value)]
            roles.append(Role(stanza.name or "", tuple(patterns), str(stanza.loc)))
    return roles


def roles_of(cfg: Any) -> list[Role]:
    return roles_from_tree(getattr(cfg, "root", None))


def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None  # a broken pattern allows nothing


def check(roles: list[Role], user: str, user_roles: tuple[str, ...], line: str) -> Decision:
    """May ``user`` (member of ``user_roles``) run ``line``?"""
    command = " ".join(line.split())
    if command.lower() in ALWAYS_ALLOWED:
        return Decision(True, "", "")
    for name in (user, *user_roles):
        for role in roles:
            if role.name != name:
                continue
            for pattern in role.allow:
                compiled = _compiled(pattern)
                if compiled is not None and compiled.search(command):
                    return Decision(True, name, pattern)
    return Decision(False, "", "")
