"""The resolver's index of a parsed configuration: every scope by its path, built once.

resolver.Config builds one ScopeIndex from the root Stanza and then answers every
lookup from it; nothing else should use this module. The index merges stanzas
declared more than once (later settings win, in file order after includes are
spliced), files each binding and pathway under its group, and prepares the
Domain/Host name tables and Peer networks. It never parses option values (the
resolver types them through the registry) and never changes the tree.

A scope id is the tuple of ``(kind, name)`` steps from the root: ``()`` is
global, ``(("binding_group", "g1"), ("binding", "b1"), ("domain", "example.com"))``
a domain inside binding b1 written inside group g1. Kinds are lowercase; domain
and host names are normalised (resolver_names), Peer names are canonical
networks, other names are as written (binding names are case-sensitive).
A binding has one merged scope for its own settings, reachable both as
``(("binding", b),)`` and ``(("binding_group", g), ("binding", b))``; the domains
and hosts written inside each declaration keep their own ids. A pathway written
inside a pathway_group and one of the same name at top level are two scopes
(two levels of the pathway chain).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ConfigError
from .resolver_listen import IPNetwork, parse_peer_network
from .resolver_names import compile_regex_name, is_regex_name, normalize_domain, regex_subject
from .scopes import LISTENER_KINDS, SCOPE_KINDS
from .tree import Setting, Stanza

ScopeId = tuple[tuple[str, "str | None"], ...]

GLOBAL_ID: ScopeId = ()


@dataclass
class Scope:
    """One scope: every declaration of it and their merged settings (later wins)."""

    id: ScopeId
    order: int  # position of the first declaration in file order
    stanzas: list[Stanza] = field(default_factory=list)
    settings: dict[str, Setting] = field(default_factory=dict)

    def add(self, stanza: Stanza) -> None:
        self.stanzas.append(stanza)
        for setting in stanza.settings:
            self.settings[setting.key] = setting


@dataclass
class NameTable:
    """Domain or Host stanzas of one container: exact names first, then regexes in file order."""

    exact: dict[str, Scope] = field(default_factory=dict)
    regexes: list[tuple[re.Pattern[str], Scope]] = field(default_factory=list)

    def match(self, key: str, subject: str) -> Scope | None:
        """``key`` is the normalised name, ``subject`` the lowercase name regexes search."""
        scope = self.exact.get(key)
        if scope is not None:
            return scope
        for pattern, regex_scope in self.regexes:
            if pattern.search(subject):
                return regex_scope
        return None


@dataclass(frozen=True)
class PeerEntry:
    network: IPNetwork
    scope: Scope
    listen_level: bool


def scope_name_key(kind: str, name: str | None, loc=None) -> str | None:
    """How a stanza name is keyed in a scope id (raises ConfigError for a bad Peer)."""
    if name is None:
        return None
    if kind in ("domain", "host"):
        return normalize_domain(name)
    if kind == "peer":
        return str(parse_peer_network(name, loc))
    return name


class ScopeIndex:
    """All scopes of one configuration, plus the tables the fallback chains walk."""

    def __init__(self, root: Stanza):
        self.scopes: dict[ScopeId, Scope] = {}
        self.global_scope = Scope(GLOBAL_ID, 0)
        self.global_scope.add(root)
        self.scopes[GLOBAL_ID] = self.global_scope
        self.binding_names: list[str] = []
        self.binding_group_of: dict[str, str] = {}
        self.group_names: list[str] = []
        self.pathway_names: list[str] = []
        self.pathway_group_of: dict[str, str] = {}
        self.listen_names: dict[str, list[str]] = {kind: [] for kind in LISTENER_KINDS}
        self.listener_peers: dict[str, list[PeerEntry]] = {kind: [] for kind in LISTENER_KINDS}
        self.listen_peers: dict[tuple[str, str], list[PeerEntry]] = {}
        self.module_stanzas: list[Stanza] = []
        self.domain_tables: dict[ScopeId, NameTable] = {}
        self.host_tables: dict[ScopeId, NameTable] = {}
        self._order = 0
        self._visit(root, GLOBAL_ID)
        self._build_name_tables()

    # -- walking the tree ------------------------------------------------------
    def _visit(self, stanza: Stanza, parent_id: ScopeId) -> None:
        for child in stanza.children:
            self._order += 1
            kind = child.kind
            if not parent_id and kind not in SCOPE_KINDS:
                self.module_stanzas.append(child)
            child_id = parent_id + ((kind, scope_name_key(kind, child.name, child.loc)),)
            if kind in ("binding", "pathway") and child.name is not None:
                scope = self._member_scope(child, parent_id, child_id)
            else:
                scope = self._scope(child_id)
                if kind == "binding_group" and child.name not in self.group_names:
                    self.group_names.append(child.name)
                if len(scope.stanzas) == 0:
                    self._note_listener_parts(child, parent_id, scope)
            scope.add(child)
            self._visit(child, child_id)

    def _scope(self, scope_id: ScopeId) -> Scope:
        scope = self.scopes.get(scope_id)
        if scope is None:
            scope = self.scopes[scope_id] = Scope(scope_id, self._order)
        return scope

    def _member_scope(self, child: Stanza, parent_id: ScopeId, child_id: ScopeId) -> Scope:
        """A binding (pathway) has one scope wherever declared; note its group."""
        kind = child.kind
        name = child.name
        group_kind = f"{kind}_group"
        names, group_of = ((self.binding_names, self.binding_group_of) if kind == "binding"
                           else (self.pathway_names, self.pathway_group_of))
        # a binding's own settings merge across declarations; a pathway written in a
        # group is its own level (pathway_group::pathway before pathway)
        scope = self._scope(((kind, name),) if kind == "binding" else child_id)
        if name not in names:
            names.append(name)
        if parent_id and parent_id[-1][0] == group_kind:
            group = parent_id[-1][1]
            previous = group_of.get(name)
            if previous is not None and previous != group:
                raise ConfigError(
                    f"{kind} {name!r} is declared in {group_kind} {previous!r} and in "
                    f"{group_kind} {group!r}; a {kind} belongs to one group", child.loc)
            group_of[name] = group
            self.scopes[child_id] = scope
        return scope

    def _note_listener_parts(self, child: Stanza, parent_id: ScopeId, scope: Scope) -> None:
        if not parent_id:
            return
        parent_kind, parent_name = parent_id[-1]
        if child.kind == "listen" and parent_kind in self.listen_names:
            self.listen_names[parent_kind].append(child.name)
        elif child.kind == "peer":
            network = parse_peer_network(child.name, child.loc)
            if parent_kind in self.listener_peers and len(parent_id) == 1:
                self.listener_peers[parent_kind].append(PeerEntry(network, scope, False))
            elif parent_kind == "listen" and len(parent_id) == 2:
                key = (parent_id[0][0], parent_name)
                self.listen_peers.setdefault(key, []).append(PeerEntry(network, scope, True))

    # -- Domain / Host tables --------------------------------------------------
    def _build_name_tables(self) -> None:
        seen: set[int] = set()
        for scope_id, scope in self.scopes.items():
            if id(scope) in seen or not scope_id or scope.id != scope_id:
                continue
            seen.add(id(scope))
            kind, name = scope_id[-1]
            if kind not in ("domain", "host") or name is None:
                continue
            tables = self.domain_tables if kind == "domain" else self.host_tables
            table = tables.setdefault(scope_id[:-1], NameTable())
            if is_regex_name(name):
                table.regexes.append((compile_regex_name(name, scope.stanzas[0].loc), scope))
            else:
                table.exact[name] = scope

    def match(self, kind: str, container: ScopeId, key: str, subject: str) -> Scope | None:
        """The Domain/Host scope of ``container`` that a (normalised) name selects."""
        tables = self.domain_tables if kind == "domain" else self.host_tables
        table = tables.get(container)
        return None if table is None else table.match(key, subject)


def lookup_key(name: str) -> tuple[str, str]:
    """``(key, regex subject)`` for a domain or host being looked up."""
    return normalize_domain(name), regex_subject(name)
