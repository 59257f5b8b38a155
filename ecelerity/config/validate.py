"""Semantic validation of a parsed ecelerity.conf: scopes, names, options, value types.

Called by loader.load_config (and so by validate_config, ec_dump_config and the
daemon's start-up and reload) after the parser has built the tree. It checks the
tree against the scope grammar (scopes.py), the module registry (modules.py) and
the option registry (registry.py), and returns every problem found as a
ProblemList: errors make the configuration unusable, warnings (options accepted
but not implemented yet, a setting given twice) do not. It never changes the tree,
never raises for bad input and never reads files.
"""
from __future__ import annotations

import difflib
from collections.abc import Collection

from .. import modules
from . import registry
from .errors import ProblemList
from .scope_names import (
    check_instance_name,
    check_regex_name,
    is_regex_name,
    parse_listen_address,
    parse_peer_network,
)
from .scopes import SCOPE_KINDS, scope_kind
from .tree import Location, Scalar, Setting, Stanza
from .types import ConfigValueError


def validate(root: Stanza, *, overrides_from: Collection[str] = ()) -> ProblemList:
    """Check a whole tree; ``overrides_from`` names files (Local_Changes_File) whose
    settings deliberately override earlier ones, so no "set twice" warning is given for them."""
    file_rank = {name: rank for rank, name in enumerate(_files_in_order(root))}
    checker = _Validator(frozenset(overrides_from), file_rank)
    checker.check_settings(root, "global")
    for child in root.children:
        checker.check_stanza(child, root)
    checker.check_pathway_references()
    for setting in checker.unimplemented_first.values():
        checker.problems.warning(setting.loc, f"option '{setting.name}' accepted but not implemented yet")
    checker.problems.items.sort(key=lambda p: _position(p.loc, file_rank))
    return checker.problems


def _files_in_order(root: Stanza) -> list[str]:
    seen: dict[str, None] = {}
    stack = [root]
    while stack:
        stanza = stack.pop()
        seen.setdefault(stanza.loc.file, None)
        for setting in stanza.settings:
            seen.setdefault(setting.loc.file, None)
        stack.extend(reversed(stanza.children))
    return list(seen)


def _position(loc: Location | None, file_rank: dict[str, int]) -> tuple[int, int, int]:
    """Problems are reported in file order (problems without a location last)."""
    if loc is None:
        return (len(file_rank) + 1, 0, 0)
    return (file_rank.get(loc.file, len(file_rank)), loc.line, loc.col)


def match_case(typed: str, suggestion: str) -> str:
    """Spell a registry name the way the operator spelled theirs (``Max_Foo`` style)."""
    if typed.isupper():
        return suggestion.upper()
    if typed.islower():
        return suggestion.lower()
    parts = typed.split("_")
    if all(p[:1].isupper() and p[1:].islower() for p in parts if p):
        return "_".join(p.capitalize() for p in suggestion.split("_"))
    return suggestion


def _did_you_mean(typed: str, suggestion: str | None, *, keep_case: bool = True) -> str:
    if not suggestion:
        return ""
    return f" (did you mean '{match_case(typed, suggestion) if keep_case else suggestion}'?)"


def _stanza_candidates() -> list[str]:
    return list(SCOPE_KINDS) + modules.known_module_names()


def _parent_label(parent: Stanza) -> str:
    return "global" if parent.kind == "global" else parent.spelling


class _Validator:
    """One pass over one tree: collects problems, remembers first uses and declarations."""

    def __init__(self, overrides_from: frozenset[str], file_rank: dict[str, int]):
        self.problems = ProblemList()
        self.overrides_from = overrides_from
        self.file_rank = file_rank
        # option name -> its first use in file order, for one "not implemented" warning each
        self.unimplemented_first: dict[str, Setting] = {}
        self.warned_kinds: set[str] = set()
        # (scope path, option) -> first setting, so merged stanzas share one record
        self.first_setting: dict[tuple, Setting] = {}
        self.listen_first: dict[tuple, Location] = {}
        self.singleton_first: dict[str, Location] = {}
        self.pathway_names: list[str] = []
        self.pathway_refs: list[Setting] = []

    # -- stanzas ---------------------------------------------------------------
    def check_stanza(self, stanza: Stanza, parent: Stanza) -> None:
        kind = scope_kind(stanza.kind)
        if kind is None:
            try:
                spec = modules.module_spec(stanza.kind)
            except modules.ModuleLoadError as exc:
                self.problems.error(stanza.loc, str(exc))
                return
            if spec is None:
                hint = _did_you_mean(stanza.spelling, registry.suggest(stanza.kind, _stanza_candidates()),
                                     keep_case=False)
                self.problems.error(stanza.loc, f"unknown stanza '{stanza.spelling}'{hint}")
                return
            self.check_module(stanza, spec, parent)
            return
        if parent.kind not in kind.parents:
            valid = ", ".join(sorted(kind.parents))
            self.problems.error(
                stanza.loc,
                f"'{stanza.spelling}' is not valid inside '{_parent_label(parent)}' (valid in: {valid})",
            )
            return
        if kind.name == "required" and stanza.name is None:
            self.problems.error(stanza.loc, f"'{stanza.spelling}' needs a name")
        elif kind.name == "forbidden" and stanza.name is not None:
            self.problems.error(stanza.loc, f"'{stanza.spelling}' takes no name")
        elif stanza.name is not None:
            self.check_name(stanza, parent)
        if not kind.implemented and kind.kind not in self.warned_kinds:
            self.warned_kinds.add(kind.kind)
            self.problems.warning(stanza.loc, f"stanza '{stanza.spelling}' accepted but not implemented yet")
        if stanza.kind == "pathway" and stanza.name:
            self.pathway_names.append(stanza.name)
        self.check_settings(stanza, stanza.kind)
        for child in stanza.children:
            self.check_stanza(child, stanza)

    def check_name(self, stanza: Stanza, parent: Stanza) -> None:
        name = stanza.name or ""
        message: str | None = None
        if stanza.kind in ("binding", "binding_group"):
            message = check_instance_name(stanza.kind, name)
        elif stanza.kind in ("domain", "host"):
            if not name.strip():
                message = f"{stanza.kind} name must not be empty"
            elif is_regex_name(name):
                message = check_regex_name(stanza.kind, name)
        elif stanza.kind == "listen":
            try:
                parse_listen_address(name)
            except ValueError as exc:
                message = str(exc)
            else:
                self.check_listen_twice(stanza, parent)
        elif stanza.kind == "peer":
            try:
                parse_peer_network(name)
            except ValueError as exc:
                message = str(exc)
        elif not name.strip():
            message = f"{stanza.kind} name must not be empty"
        if message:
            self.problems.error(stanza.loc, message)

    def check_listen_twice(self, stanza: Stanza, parent: Stanza) -> None:
        key = (_path_key(parent), (stanza.name or "").strip())
        first = self.listen_first.setdefault(key, stanza.loc)
        if first != stanza.loc and stanza.loc.file not in self.overrides_from:
            self.problems.error(
                stanza.loc,
                f"Listen '{stanza.name}' is declared twice in '{parent.spelling}' (first at {first})",
            )

    def check_module(self, stanza: Stanza, spec, parent: Stanza) -> None:
        if parent.kind != "global":
            self.problems.error(
                stanza.loc,
                f"'{stanza.spelling}' is not valid inside '{_parent_label(parent)}' (valid in: global)",
            )
            return
        if spec.singleton:
            first = self.singleton_first.setdefault(spec.name, stanza.loc)
            if first != stanza.loc and stanza.loc.file not in self.overrides_from:
                self.problems.error(
                    stanza.loc, f"module '{spec.name}' is a singleton: one stanza only (first at {first})"
                )
        if not spec.implemented:
            self.problems.warning(stanza.loc, f"module '{spec.name}' accepted but not implemented yet")
        accepts_anything = getattr(spec, "any_option", False)
        for setting in stanza.settings:
            option = spec.options.get(setting.key)
            if option is None:
                if not accepts_anything:
                    hint = _did_you_mean(setting.name, registry.suggest(setting.name, list(spec.options)))
                    self.problems.error(
                        setting.loc, f"unknown option '{setting.name}' for module '{spec.name}'{hint}"
                    )
                continue
            if self.check_value(setting, option):
                self.check_twice(stanza, setting)
                if spec.implemented and not option.implemented:
                    self.note_unimplemented(f"{spec.name}:{option.name}", setting)
        if not accepts_anything:
            for child in stanza.children:
                self.problems.error(
                    child.loc, f"unknown stanza '{child.spelling}' inside module '{spec.name}'"
                )
        if spec.check is not None:
            try:
                found = spec.check(stanza)
            except Exception as exc:  # noqa: BLE001 - a module's checker must not kill validation
                found = [(stanza.loc, f"module '{spec.name}': its configuration check failed: {exc}")]
            for loc, message, *severity in found:
                if severity and severity[0] == "warning":
                    self.problems.warning(loc, message)
                else:
                    self.problems.error(loc, message)

    # -- settings --------------------------------------------------------------
    def check_settings(self, stanza: Stanza, scope: str) -> None:
        for setting in stanza.settings:
            spec = registry.lookup(setting.name)
            if spec is None:
                hint = _did_you_mean(setting.name, registry.suggest(setting.name))
                self.problems.error(setting.loc, f"unknown option '{setting.name}'{hint}")
                continue
            if scope not in spec.scopes:
                valid = ", ".join(sorted(spec.scopes))
                self.problems.error(
                    setting.loc,
                    f"option '{setting.name}' is not valid in scope '{scope}' (valid in: {valid})",
                )
                continue
            if not self.check_value(setting, spec):
                continue
            if spec.name == "pathway" and isinstance(setting.value, Scalar):
                self.pathway_refs.append(setting)
            self.check_twice(stanza, setting)
            if not spec.implemented:
                self.note_unimplemented(spec.name, setting)

    def note_unimplemented(self, key: str, setting: Setting) -> None:
        """Keep the first use in file order: one warning per option, where it first appears."""
        first = self.unimplemented_first.get(key)
        if first is None or _position(setting.loc, self.file_rank) < _position(first.loc, self.file_rank):
            self.unimplemented_first[key] = setting

    def check_pathway_references(self) -> None:
        """``pathway = "x"`` in a listener, Listen or Peer must name a declared Pathway."""
        for setting in self.pathway_refs:
            name = setting.value.text
            if name not in self.pathway_names:
                close = difflib.get_close_matches(name, self.pathway_names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problems.error(setting.loc, f"unknown pathway {name!r}{hint}")

    def check_value(self, setting: Setting, spec) -> bool:
        try:
            spec.type.parse(setting.value)
        except ConfigValueError as exc:
            self.problems.error(setting.value.loc, f"option '{setting.name}': {exc}")
            return False
        return True

    def check_twice(self, stanza: Stanza, setting: Setting) -> None:
        key = (_path_key(stanza), setting.key)
        first = self.first_setting.setdefault(key, setting)
        if first is setting or setting.loc.file in self.overrides_from:
            return
        self.problems.warning(
            setting.loc,
            f"option '{setting.name}' is set twice in this scope (first at {first.loc}); the later value wins",
        )


def _path_key(stanza: Stanza) -> tuple:
    """Stanzas that merge (same kind and name under the same parents) share one key."""
    return tuple((s.kind, s.name) for s in stanza.path())
