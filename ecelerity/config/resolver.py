"""Scope fallback: "the value of option X here", for every part of ecelerity.

config/loader.py builds one Config per load (and per reload: a Config is
immutable, so a reload builds a new one and swaps it in); every other module
reads configuration only through it. Values are typed by the option registry
(``registry.lookup(name).type.parse``); an option set nowhere takes the registry
default. Never parses files, never validates option placement (validate.py does),
never changes the tree.

Chains, most specific first (momentum-facts.md §1.5, §1.6); resolver_chains.py
builds them (Config inherits ScopeChains), this module walks them and caches:

- sending, ``get``: binding_group::binding::domain -> binding::domain ->
  binding_group::domain -> binding -> binding_group -> domain -> global -> default.
  Level 1 is a Domain written inside the binding's declaration inside its group,
  level 2 one inside a top-level declaration of the same binding.
- host, ``get_host``: binding_group::binding::host -> binding::host ->
  binding_group::host -> host, then the sending chain. ``max_outbound_connections``
  looks at the host levels only and is -1 (unlimited) when they do not set it.
- inbound, ``get_inbound``: matching Peers (longest prefix first; a Peer inside
  the Listen before one at listener level on equal prefixes) -> Listen ->
  listener -> the pathway chain -> global -> default.
- pathway, ``get_pathway``: pathway_group::pathway -> pathway -> pathway_group
  -> global -> default.

Inferences (the docs leave these open):
- the binding_group level ranks after binding and before a global domain;
- each container (global, a binding declaration, a group) selects at most one
  Domain (Host) stanza: its exact name if declared, else the first /regex/ in
  file order that matches; only that stanza is consulted at that level;
- bindings outside any group belong to the implicit ``default`` group, so a
  ``binding_group "default" { }`` stanza applies to them;
- the pathway for an inbound lookup is the ``pathway`` argument when given (a
  policy script chose it), else the ``pathway`` option found along the
  Peer/Listen/listener chain; a pathway outside any pathway_group has no group level.
"""
from __future__ import annotations

import functools
from typing import Any, Iterable

from .errors import ConfigError, ConfigProblem
from .resolver_chains import DEFAULT_NAME, ScopeChains
from .resolver_index import Scope, ScopeId, ScopeIndex, scope_name_key
from .resolver_listen import ListenSpec, parse_listen_name
from .resolver_modules import ModuleInstance, module_option_spec, raw_value
from .resolver_names import scope_path_string
from .scopes import LISTENER_KINDS
from .tree import Location, Scalar, Setting, Stanza

__all__ = ["Config", "ListenSpec", "ModuleInstance"]

CACHE_SIZE = 65536
HOST_ONLY_OPTIONS = frozenset({"max_outbound_connections"})
_MISSING = object()

# (typed value, id of the defining scope or None for the built-in default, location)
Resolution = tuple[Any, "ScopeId | None", "Location | None"]


_REGISTRY = None


def _registry():
    """The option registry, imported on first use (it imports every option table)."""
    global _REGISTRY
    if _REGISTRY is None:
        from . import registry

        _REGISTRY = registry
    return _REGISTRY


class Config(ScopeChains):
    """One loaded configuration, answering option lookups by scope fallback (cached)."""

    def __init__(self, root: Stanza, *, files: list[str], warnings: list[ConfigProblem]):
        self.root = root
        self.files = list(files)
        self.warnings = list(warnings)
        self._index = ScopeIndex(root)
        self._listen_addresses = {
            kind: [(name, parse_listen_name(name, self._listen_loc(kind, name)))
                   for name in self._index.listen_names[kind]]
            for kind in LISTENER_KINDS
        }
        self._binding_set = frozenset(self._index.binding_names)
        self._check_pathway_references()
        self._typed_values: dict[int, Any] = {}
        self._sending = functools.lru_cache(maxsize=CACHE_SIZE)(self._resolve_sending)
        self._host = functools.lru_cache(maxsize=CACHE_SIZE)(self._resolve_host)
        self._inbound = functools.lru_cache(maxsize=CACHE_SIZE)(self._resolve_inbound)
        self._pathway = functools.lru_cache(maxsize=CACHE_SIZE)(self._resolve_pathway)

    # -- public lookups ----------------------------------------------------------
    def get(self, option: str, *, binding: str | None = None, domain: str | None = None) -> Any:
        return self._sending(option, binding, domain)[0]

    def get_host(self, option: str, *, host: str, binding: str | None = None,
                 domain: str | None = None) -> Any:
        return self._host(option, host, binding, domain)[0]

    def get_inbound(self, option: str, *, listener: str = "esmtp_listener", listen: str | None = None,
                    peer_ip: str | None = None, pathway: str | None = None) -> Any:
        return self._inbound(option, listener, listen, peer_ip, pathway)[0]

    def get_pathway(self, option: str, *, pathway: str) -> Any:
        return self._pathway(option, pathway)[0]

    def explain(self, option: str, *, binding: str | None = None,
                domain: str | None = None) -> tuple[Any, str, Location | None]:
        return _explained(self._sending(option, binding, domain))

    def explain_host(self, option: str, *, host: str, binding: str | None = None,
                     domain: str | None = None) -> tuple[Any, str, Location | None]:
        return _explained(self._host(option, host, binding, domain))

    def explain_inbound(self, option: str, *, listener: str = "esmtp_listener",
                        listen: str | None = None, peer_ip: str | None = None,
                        pathway: str | None = None) -> tuple[Any, str, Location | None]:
        return _explained(self._inbound(option, listener, listen, peer_ip, pathway))

    def explain_pathway(self, option: str, *, pathway: str) -> tuple[Any, str, Location | None]:
        return _explained(self._pathway(option, pathway))

    def throttle_scope(self, option: str, *, binding: str | None = None, domain: str | None = None,
                       host: str | None = None) -> tuple[ScopeId, Any] | None:
        """The defining scope's id (one bucket per id; ``()`` is global) and the value.

        None when no scope sets the option (the built-in default is not a bucket).
        """
        if host is not None:
            value, scope_id, _ = self._host(option, host, binding, domain)
        else:
            value, scope_id, _ = self._sending(option, binding, domain)
        return None if scope_id is None else (scope_id, value)

    def scope_get(self, path: list[tuple[str, str | None]], option: str) -> Any:
        """The value set in exactly that scope (``[]`` is global); KeyError if unset there."""
        try:
            scope_id: ScopeId = tuple(
                (kind.lower(), scope_name_key(kind.lower(), name)) for kind, name in path)
        except ConfigError as exc:
            raise KeyError(str(exc.first.message)) from None
        scope = self._index.scopes.get(scope_id)
        where = "" if not scope_id else scope_path_string(scope_id)
        if scope is None:
            raise KeyError(f"no scope '{where}' in the configuration")
        setting = scope.settings.get(option.lower())
        if setting is None:
            raise KeyError(f"Option '{option}' is not set in scope '{where}'.")
        if scope_id and scope_id[0][0] in self._module_kinds():
            return self._module_value(scope_id[0][0], setting)
        spec = _registry().lookup(option)
        return raw_value(setting.value) if spec is None else self._typed(spec, setting)

    # -- structure ------------------------------------------------------------
    def listens(self, listener: str = "esmtp_listener") -> list[ListenSpec]:
        kind = listener.lower()
        if kind not in self._listen_addresses:
            raise KeyError(f"unknown listener kind {listener!r}")
        specs = []
        for name, (sock_kind, host, port, path) in self._listen_addresses[kind]:
            listen_id = ((kind, None), ("listen", name))
            enabled = self._first("enable", [self._index.scopes[listen_id],
                                             self._index.scopes.get(((kind, None),))])[0]
            specs.append(ListenSpec(name, sock_kind, host, port, path, bool(enabled),
                                    self._listen_loc(kind, name)))
        return specs

    def bindings(self) -> list[str]:
        names = self._index.binding_names
        return names if DEFAULT_NAME in names else [DEFAULT_NAME, *names]

    def binding_groups(self) -> list[str]:
        names = self._index.group_names
        return names if DEFAULT_NAME in names else [DEFAULT_NAME, *names]

    def has_binding(self, name: str) -> bool:
        return name == DEFAULT_NAME or name in self._binding_set

    def binding_group_of(self, binding: str) -> str:
        """The group a binding belongs to; ``default`` for bindings declared outside one."""
        if not self.has_binding(binding):
            raise KeyError(self._unknown("binding", binding, self.bindings()))
        return self._index.binding_group_of.get(binding, DEFAULT_NAME)

    def bindings_in_group(self, group: str) -> list[str]:
        if group not in self.binding_groups():
            raise KeyError(self._unknown("binding_group", group, self.binding_groups()))
        return [b for b in self.bindings() if self.binding_group_of(b) == group]

    def pathways(self) -> list[str]:
        return list(self._index.pathway_names)

    def modules(self) -> list[ModuleInstance]:
        return [
            ModuleInstance(stanza.kind, stanza.name,
                           {s.key: self._module_value(stanza.kind, s) for s in stanza.settings},
                           stanza.loc, stanza)
            for stanza in self._index.module_stanzas
        ]

    # -- uncached resolvers (wrapped by lru_cache in __init__) -------------------
    def _resolve_sending(self, option: str, binding: str | None, domain: str | None) -> Resolution:
        return self._first(option, self._sending_chain(binding, domain) + [self._index.global_scope])

    def _resolve_host(self, option: str, host: str, binding: str | None,
                      domain: str | None) -> Resolution:
        host_levels = self._host_levels(host, binding)
        if option.lower() in HOST_ONLY_OPTIONS:
            value, scope_id, loc = self._first(option, host_levels)
            return (-1, None, None) if scope_id is None else (value, scope_id, loc)
        chain = host_levels + self._sending_chain(binding, domain) + [self._index.global_scope]
        return self._first(option, chain)

    def _resolve_inbound(self, option: str, listener: str, listen: str | None,
                         peer_ip: str | None, pathway: str | None) -> Resolution:
        chain = self._listener_chain(listener.lower(), listen, peer_ip)
        if pathway is None:
            pathway = self._first("pathway", chain)[0]
        if pathway is not None:
            chain += self._pathway_chain(pathway)
        return self._first(option, chain + [self._index.global_scope])

    def _resolve_pathway(self, option: str, pathway: str) -> Resolution:
        return self._first(option, self._pathway_chain(pathway) + [self._index.global_scope])

    def _first(self, option: str, chain: Iterable[Scope | None]) -> Resolution:
        spec = _registry().lookup(option)
        if spec is None:
            hint = _registry().suggest(option)
            raise KeyError(f"unknown option {option!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
        key = option.lower()
        for scope in chain:
            if scope is None:
                continue
            setting = scope.settings.get(key)
            if setting is not None:
                return self._typed(spec, setting), scope.id, setting.loc
        return spec.default, None, None

    # -- typing ------------------------------------------------------------------
    def _typed(self, spec, setting: Setting) -> Any:
        value = self._typed_values.get(id(setting), _MISSING)
        if value is _MISSING:
            from .types import ConfigValueError

            try:
                value = spec.type.parse(setting.value)
            except ConfigValueError as exc:
                raise ConfigError(f"{setting.name}: {exc}", setting.loc) from None
            self._typed_values[id(setting)] = value
        return value

    def _module_kinds(self) -> set[str]:
        return {stanza.kind for stanza in self._index.module_stanzas}

    def _module_value(self, module: str, setting: Setting) -> Any:
        spec = module_option_spec(module, setting.key) or _registry().lookup(setting.key)
        return raw_value(setting.value) if spec is None else self._typed(spec, setting)

    # -- helpers -------------------------------------------------------------------
    def _listen_loc(self, kind: str, name: str) -> Location | None:
        scope = self._index.scopes.get(((kind, None), ("listen", name)))
        return scope.stanzas[0].loc if scope is not None and scope.stanzas else None

    def _check_pathway_references(self) -> None:
        """Every ``pathway = name`` in a listener scope must name a declared pathway."""
        for scope_id, scope in self._index.scopes.items():
            if not scope_id or scope_id[0][0] not in LISTENER_KINDS:
                continue
            setting = scope.settings.get("pathway")
            if setting is None or not isinstance(setting.value, Scalar):
                continue
            if setting.value.text not in self._index.pathway_names:
                raise ConfigError(self._unknown("pathway", setting.value.text,
                                                self._index.pathway_names), setting.loc)


def _explained(resolution: Resolution) -> tuple[Any, str, Location | None]:
    value, scope_id, loc = resolution
    return value, "default" if scope_id is None else scope_path_string(scope_id), loc
