"""The scope chains of the resolver: which scopes an option lookup visits, in order.

Who calls it: config/resolver.py's Config inherits ScopeChains; its uncached resolvers
walk the chain built here and take the first scope that sets the option (the chains
themselves are spelled out in resolver.py's docstring). Called only on a cache miss,
so never per message once warm. It never types values, never reads settings and never
changes the index; an unknown binding, pathway, Listen or listener kind is a KeyError
with a did-you-mean.
"""
from __future__ import annotations

import difflib
from typing import Callable

from .resolver_index import GLOBAL_ID, PeerEntry, Scope, ScopeIndex, lookup_key
from .resolver_listen import client_address
from .scopes import LISTENER_KINDS

DEFAULT_NAME = "default"


class ScopeChains:
    """The chain half of Config; ``_index`` and ``binding_group_of`` come from Config."""

    _index: ScopeIndex
    binding_group_of: Callable[[str], str]

    def _sending_chain(self, binding: str | None, domain: str | None) -> list[Scope | None]:
        index = self._index
        binding = DEFAULT_NAME if binding is None else binding
        group = self.binding_group_of(binding)
        binding_step, group_step = ("binding", binding), ("binding_group", group)
        chain: list[Scope | None] = []
        global_domain = None
        if domain is not None:
            key, subject = lookup_key(domain)
            for container in ((group_step, binding_step), (binding_step,), (group_step,)):
                chain.append(index.match("domain", container, key, subject))
            global_domain = index.match("domain", GLOBAL_ID, key, subject)
        chain += [index.scopes.get((binding_step,)), index.scopes.get((group_step,)), global_domain]
        return chain

    def _host_levels(self, host: str, binding: str | None) -> list[Scope | None]:
        binding = DEFAULT_NAME if binding is None else binding
        binding_step = ("binding", binding)
        group_step = ("binding_group", self.binding_group_of(binding))
        key, subject = lookup_key(host)
        return [self._index.match("host", container, key, subject)
                for container in ((group_step, binding_step), (binding_step,), (group_step,),
                                  GLOBAL_ID)]

    def _pathway_chain(self, pathway: str) -> list[Scope | None]:
        index = self._index
        if pathway not in index.pathway_names:
            raise KeyError(self._unknown("pathway", pathway, index.pathway_names))
        pathway_step = ("pathway", pathway)
        group = index.pathway_group_of.get(pathway)
        if group is None:
            return [index.scopes.get((pathway_step,))]
        group_step = ("pathway_group", group)
        return [index.scopes.get((group_step, pathway_step)), index.scopes.get((pathway_step,)),
                index.scopes.get((group_step,))]

    def _listener_chain(self, kind: str, listen: str | None, peer_ip: str | None) -> list[Scope | None]:
        index = self._index
        if kind not in index.listen_names:
            raise KeyError(self._unknown("listener kind", kind, list(LISTENER_KINDS)))
        peers: list[PeerEntry] = list(index.listener_peers[kind])
        listen_scope = None
        if listen is not None:
            listen_scope = index.scopes.get(((kind, None), ("listen", listen)))
            if listen_scope is None:
                raise KeyError(self._unknown(f"Listen in {kind}", listen, index.listen_names[kind]))
            peers += index.listen_peers.get((kind, listen), [])
        chain: list[Scope | None] = []
        if peer_ip:
            try:
                address = client_address(peer_ip)
            except ValueError:
                raise KeyError(f"peer_ip {peer_ip!r} is not an IP address") from None
            matching = [p for p in peers if address in p.network]
            matching.sort(key=lambda p: (-p.network.prefixlen, not p.listen_level, p.scope.order))
            chain += [p.scope for p in matching]
        chain += [listen_scope, index.scopes.get(((kind, None),))]
        return chain

    @staticmethod
    def _unknown(what: str, name: str, candidates: list[str]) -> str:
        by_lower = {candidate.lower(): candidate for candidate in candidates}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
        hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
        return f"unknown {what} {name!r}{hint}"

