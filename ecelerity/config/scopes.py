"""The scope grammar: which stanzas exist, whether they take a name, where they may sit.

This table is the one place that says ``binding`` may sit in global or inside a
``binding_group``, that ``Listen`` needs a name and ``ESMTP_Listener`` takes none.
Module stanzas (``ec_logger "x" { }``) are not listed here: the module registry
(ecelerity/modules.py) answers for them. The option registry says which options
are valid in which of these scope kinds.
"""
from __future__ import annotations

from dataclasses import dataclass

LISTENER_KINDS = (
    "esmtp_listener",
    "control_listener",
    "http_listener",
    "ecstream_listener",
    "eccluster_listener",
    "msgcserver_listener",
    "xmpp_listener",
)


@dataclass(frozen=True)
class ScopeKind:
    kind: str  # lowercase name
    name: str  # "required" | "forbidden" | "optional"
    parents: tuple[str, ...]  # kinds this stanza may appear in ("global" = top level)
    implemented: bool = True
    doc: str = ""


def _k(kind, name, parents, implemented=True, doc=""):
    return ScopeKind(kind, name, tuple(parents), implemented, doc)


SCOPE_KINDS: dict[str, ScopeKind] = {
    s.kind: s
    for s in [
        _k("domain", "required", ["global", "binding", "binding_group"],
           doc="per-destination-domain options; name is a domain, IP literal or /regex/"),
        _k("host", "required", ["global", "binding", "binding_group"],
           doc="per-MX-host options (connection limits and throttles)"),
        _k("binding", "required", ["global", "binding_group"],
           doc="a source identity (bind_address, ehlo_hostname) for outbound mail"),
        _k("binding_group", "required", ["global"], doc="a named set of bindings"),
        *[_k(k, "forbidden", ["global"], doc=f"{k} listener") for k in LISTENER_KINDS],
        _k("listen", "required", list(LISTENER_KINDS), doc="one socket: ip:port, [v6]:port or a unix path"),
        _k("peer", "required", list(LISTENER_KINDS) + ["listen"], doc="options for clients in a CIDR"),
        _k("pathway", "required", ["global", "pathway_group"], doc="a named set of inbound options"),
        _k("pathway_group", "required", ["global"], doc="a container for pathways"),
        _k("security", "forbidden", ["global"], doc="user, group, chroot, capabilities"),
        _k("threadpool", "required", ["global"], doc="a named thread pool"),
        _k("debug_flags", "forbidden", ["global"], doc="paniclog verbosity per subsystem"),
        _k("cluster", "forbidden", ["global"], implemented=False, doc="cluster configuration"),
        _k("eventloop", "required", ["global"], implemented=False, doc="a pool of event loops"),
        _k("authorization", "optional", ["global"],
           doc="console command roles for control-channel users"),
        _k("role", "required", ["authorization"],
           doc="console command patterns allowed to a user or role"),
        _k("snmp", "forbidden", ["global"], implemented=False, doc="SNMP agent"),
        _k("snmp_traps", "forbidden", ["global"], implemented=False, doc="SNMP traps"),
        _k("adaptive_backstore_leveldb", "forbidden", ["global"], implemented=False,
           doc="LevelDB backing store for adaptive delivery"),
        _k("adaptive_backstore_riak", "forbidden", ["global"], implemented=False,
           doc="Riak backing store for adaptive delivery"),
    ]
}

# Stanzas that may be declared several times with the same name and merge
# (binding groups across include files, the same domain twice...).
MERGING_KINDS = frozenset({"binding_group", "binding", "domain", "host", "pathway", "pathway_group"})


def scope_kind(kind: str) -> ScopeKind | None:
    return SCOPE_KINDS.get(kind.lower())
