"""Sieve runtime state: variables, match values, flags and the action list of one run.

Created by engine.run_script for each message; the compiled closures read and change
it. Owns action semantics shared by every command: implicit keep, duplicate merging,
reject conflicts, action and redirect limits. Never touches the daemon or the
network: it only records what the script decided.
"""
from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .errors import DEFAULT_LIMITS, Limits, SieveRuntimeError
from .message_view import MessageView


class StopScript(Exception):
    """``stop``: end every script of this run."""


class ReturnScript(Exception):
    """``return`` (include): end the current included script."""


# Empty until a script needs one (a set is never free-listed: two fewer allocations a
# run). Writers replace it with a set first (ext_include.py: ``global``, ``:once``).
NONE_YET: frozenset[str] = frozenset()


class Scope:
    """One script's variables (include gives each script its own)."""

    __slots__ = ("variables", "global_names")

    def __init__(self, variables: dict[str, str] | None = None,
                 global_names: set[str] | None = None) -> None:
        self.variables: dict[str, str] = {} if variables is None else variables
        self.global_names: AbstractSet[str] = NONE_YET if global_names is None else global_names


@dataclass
class Action:
    kind: str                     # keep | fileinto | redirect | reject | ereject | discard
    argument: str = ""            # mailbox, address or reason
    flags: list[str] | None = None

    def key(self) -> tuple[str, str]:
        if self.kind == "redirect":
            return (self.kind, self.argument.lower())
        if self.kind in ("reject", "ereject", "discard", "keep"):
            return (self.kind, "")
        return (self.kind, self.argument)

    def normalised(self) -> dict:
        if self.kind == "keep":
            out: dict = {"action": "keep"}
        elif self.kind == "fileinto":
            out = {"action": "fileinto", "mailbox": self.argument}
        elif self.kind == "redirect":
            out = {"action": "redirect", "address": self.argument}
        elif self.kind in ("reject", "ereject"):
            out = {"action": "reject", "reason": self.argument}
        else:
            out = {"action": self.kind}
        if self.flags:
            out["flags"] = list(self.flags)
        return out


DELIVERING = ("keep", "fileinto", "redirect")


class ActionList:
    """Actions in execution order, duplicates merged into their first occurrence."""

    __slots__ = ("limits", "actions", "_index")

    def __init__(self, limits: Limits):
        self.limits = limits
        self.actions: list[Action] = []
        self._index: dict[tuple[str, str], Action] = {}

    def add(self, action: Action) -> None:
        if action.kind == "fileinto" and action.argument.upper() == "INBOX":
            action = Action("keep", "", action.flags)
        existing = self._index.get(action.key())
        rejecting = [a for a in self.actions if a.kind in ("reject", "ereject")]
        if action.kind in ("reject", "ereject"):
            if rejecting:
                raise SieveRuntimeError("duplicate reject/ereject action not allowed")
            for other in self.actions:
                if other.kind in DELIVERING:
                    raise SieveRuntimeError(
                        f"reject/ereject action conflicts with the earlier {other.kind} action")
        elif action.kind in DELIVERING and rejecting:
            raise SieveRuntimeError(
                f"{action.kind} action conflicts with the earlier reject/ereject action")
        if existing is not None:
            if action.flags:
                merged = list(existing.flags or [])
                lowered = {f.lower() for f in merged}
                merged.extend(f for f in action.flags if f.lower() not in lowered)
                existing.flags = merged
            return
        if len(self.actions) >= self.limits.max_actions:
            raise SieveRuntimeError(f"too many actions (limit {self.limits.max_actions})")
        if action.kind == "redirect":
            redirects = sum(1 for a in self.actions if a.kind == "redirect")
            if redirects >= self.limits.max_redirects:
                raise SieveRuntimeError(
                    f"too many redirect actions (limit {self.limits.max_redirects})")
        self.actions.append(action)
        self._index[action.key()] = action


class Runtime:
    """Mutable state of one script run over one message (slots: built once per run)."""

    __slots__ = ("message", "host", "limits", "actions", "implicit_keep", "scope", "global_vars",
                 "match_values", "flags", "included_once", "include_depth", "lists", "hashes")

    def __init__(self, message: MessageView, limits: Limits = DEFAULT_LIMITS, host=None):
        self.message = message
        self.host = host  # Sieve++: a phase_runner.PolicyHost (vctx, phase, counters), or None
        self.limits = limits
        self.actions = ActionList(limits)
        self.implicit_keep = True
        self.scope = Scope()
        self.global_vars: dict[str, str] = {}
        self.match_values: list[str] = []
        self.flags: list[str] = []      # imap4flags internal variable
        self.included_once: AbstractSet[str] = NONE_YET  # a set once an include :once ran
        self.include_depth = 0
        self.lists: dict[str, list[str]] = {}  # Sieve++ variables holding a list value
        self.hashes: dict[str, dict[str, str]] | None = None  # ext_momentum_data's hashes

    # --- variables (RFC 5229) ----------------------------------------------------
    def get_variable(self, name: str) -> str:
        scope = self.scope
        if not scope.global_names and not name.startswith("global."):
            return scope.variables.get(name, "")
        if name.startswith("global."):
            return self.global_vars.get(name[7:], "")
        if name in scope.global_names:
            return self.global_vars.get(name, "")
        return scope.variables.get(name, "")

    def set_variable(self, name: str, value: str) -> None:
        limit = self.limits.max_variable_size
        # UTF-8 (surrogatepass) needs at most 4 bytes a character: short values need no check
        if len(value) * 4 > limit and len(value.encode("utf-8", "surrogatepass")) > limit:
            value = value.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")
        if name.startswith("global."):
            self.global_vars[name[7:]] = value
        elif name in self.scope.global_names:
            self.global_vars[name] = value
        else:
            variables = self.scope.variables
            if name not in variables and len(variables) >= self.limits.max_variables:
                raise SieveRuntimeError(f"too many variables (limit {self.limits.max_variables})")
            variables[name] = value

    def get_values(self, name: str) -> list[str]:
        """A Sieve++ ``$name`` used where a string list is expected."""
        if self.lists and name in self.lists:
            return list(self.lists[name])
        return [self.get_variable(name)]

    def assign(self, name: str, value: object) -> None:
        """Sieve++ ``$name = value``: a list keeps its items, anything else becomes a string."""
        if value.__class__ is str:
            if self.lists:
                self.lists.pop(name, None)
            self.set_variable(name, value)
            return
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value][: self.limits.max_string_list]
            self.lists[name] = items
            self.set_variable(name, ", ".join(items))
            return
        self.lists.pop(name, None)
        self.set_variable(name, "" if value is None else str(value))

    def get_match(self, index: int) -> str:
        return self.match_values[index] if index < len(self.match_values) else ""

    def set_matches(self, captures: list[str] | None) -> None:
        if captures is not None:
            self.match_values = captures[: self.limits.max_match_values]

    # --- actions -------------------------------------------------------------------
    def add_action(self, action: Action, cancels_implicit_keep: bool = True) -> None:
        self.actions.add(action)
        if cancels_implicit_keep:
            self.implicit_keep = False

    def normalised_actions(self) -> list[dict]:
        actions = self.actions.actions
        if not actions and self.implicit_keep and not self.flags:
            return [{"action": "keep", "implicit": True}]  # the usual result, built directly
        out = [a.normalised() for a in actions]
        if self.implicit_keep and not any(a.kind == "keep" for a in self.actions.actions):
            final: dict = {"action": "keep", "implicit": True}
            if self.flags:
                final["flags"] = list(self.flags)
            out.append(final)
        return out
