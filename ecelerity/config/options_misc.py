"""Option table: scope names listed as options, adaptive delivery, signing, HTTP delivery.

Momentum's option reference lists some scopes (binding, domain, security...) as
"options"; they are declared here with the SCOPE type and ``is_scope=True`` so
the registry covers the whole reference, and their ``scopes`` are the kinds
where the stanza may sit. The stanza grammar itself lives in scopes.py. Read by
registry.py only.
"""
from __future__ import annotations

from .options_common import GLOBAL, PATHWAY, SENDING, opt
from .types import BOOLEAN, SCOPE, SECONDS, SIZE, STRING, STRING_LIST, EnumType


def _scope(spelling: str, parents: set[str] | frozenset[str], doc: str, dynamic: bool = True):
    return opt(spelling, SCOPE, None, parents, doc, is_scope=True, dynamic=dynamic)


OPTIONS = [
    # --- scopes listed in the option reference ---
    _scope("Binding", {"global", "binding_group"}, "a source identity for outbound mail"),
    _scope("Binding_Group", GLOBAL, "a named group of bindings"),
    _scope("Domain", {"global", "binding", "binding_group"}, "options for one destination domain"),
    _scope("Host", {"global", "binding", "binding_group"}, "options for one MX host"),
    _scope("Pathway_Group", GLOBAL, "a container for pathways"),
    _scope("Security", GLOBAL, "user, group, chroot and capabilities", dynamic=False),
    _scope("ThreadPool", GLOBAL, "a named thread pool"),
    _scope("EventLoop", GLOBAL, "a pool of event loops", dynamic=False),
    _scope("Debug_Flags", GLOBAL, "paniclog verbosity per subsystem"),
    _scope("SNMP", GLOBAL, "SNMP agent settings", dynamic=False),
    _scope("Authorization", GLOBAL, "console command roles per user"),
    _scope("Adaptive_Backstore_LevelDB", GLOBAL, "LevelDB backing store of adaptive delivery"),
    _scope("Adaptive_Backstore_Riak", GLOBAL, "Riak backing store of adaptive delivery"),
    # --- adaptive delivery ---
    opt("adaptive_enabled", BOOLEAN, False, SENDING, "enable adaptive delivery for this scope"),
    opt("adaptive_scope", STRING, "auto", SENDING, "scope adaptive delivery applies to"),
    opt("address_metrics_cleanse_interval", SECONDS, 3600, GLOBAL,
        "how often address metrics are refreshed"),
    opt("address_metrics_lifetime", SECONDS, 1800, GLOBAL, "TTL of address metrics"),
    # --- signing and feedback loops ---
    opt("domainkeys", BOOLEAN, False, SENDING, "DomainKeys signing"),  # default: inferred
    opt("opendkim_sign", BOOLEAN, True, SENDING, "OpenDKIM signing", dynamic=False, implemented=True),
    opt("signing_stats", STRING, "all", GLOBAL, "how signing statistics are recorded", implemented=True),
    opt("enable_fbl_header_insertion", BOOLEAN, False, SENDING,  # default: inferred
        "insert feedback-loop headers"),
    # --- bounces, aliases ---
    opt("async_bounce_rendering", BOOLEAN, True, GLOBAL, "render bounces in a thread pool"),
    opt("alias_schemes", STRING_LIST, None, PATHWAY | {"domain"},
        "named alias expansion schemes to apply"),
    # --- outbound socket ---
    opt("tcp_buffer_size", SIZE, 32768, {"global", "cluster"},
        "TCP buffer size of outbound connections"),
    # --- HTTP delivery (delivery_method = HTTP) ---
    opt("http_basic_auth", STRING, None, SENDING, "user:password for HTTP basic authentication"),
    opt("http_host", STRING, None, SENDING, "HTTP host to deliver to"),
    opt("http_method", STRING, "POST", SENDING, "HTTP method"),
    opt("http_uri", STRING, None, SENDING, "HTTP URI to deliver to"),
    opt("http_version", EnumType(["1.0", "1.1"]), "1.1", SENDING, "HTTP version"),
    opt("allow", STRING_LIST, None, {"role"},
        "regular expressions of console commands this user/role may run", implemented=True),
]
