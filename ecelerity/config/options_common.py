"""Shared pieces of the option tables: scope sets and the ``opt`` constructor.

Imported by options_*.py only. Scope sets name the scope kinds of
ecelerity/config/scopes.py plus the pseudo-kinds "global" and "module"; they
follow Momentum's Configuration Options Summary table. Never put an option here.
"""
from __future__ import annotations

from typing import Any, Iterable

from .registry import OptionSpec
from .scopes import LISTENER_KINDS
from .types import OptionType

GLOBAL = frozenset({"global"})
SENDING = frozenset({"global", "binding", "binding_group", "domain"})
SENDING_HOST = SENDING | {"host"}
# "esmtp_listener, listen, pathway, pathway_group, peer" in the summary table.
INBOUND = frozenset({"esmtp_listener", "listen", "peer", "pathway", "pathway_group"})
INBOUND_GLOBAL = INBOUND | {"global"}
PATHWAY = frozenset({"global", "pathway", "pathway_group"})
ALL_LISTENERS = frozenset(LISTENER_KINDS) | {"listen"}
SECURITY = frozenset({"security"})
THREADPOOL = frozenset({"threadpool"})
DEBUG_FLAGS = frozenset({"debug_flags"})
# tls_certificate/tls_key/tls_ciphers: both directions.
TLS_INBOUND = frozenset({"esmtp_listener", "ecstream_listener", "http_listener", "xmpp_listener",
                         "listen", "peer", "pathway", "pathway_group"})


_ACRONYMS = {"tls": "TLS", "smtp": "SMTP", "dns": "DNS", "mx": "MX", "mxs": "MXs", "ipv6": "IPv6",
             "lmtp": "LMTP", "http": "HTTP", "dsn": "DSN", "fbl": "FBL", "pcre": "PCRE", "tcp": "TCP",
             "ssl": "SSL", "ehlo": "EHLO", "rset": "RSET", "uri": "URI", "ca": "CA", "snmp": "SNMP",
             "8bitmime": "8BitMime", "dhe": "DHE", "vctx": "VCtx", "ttl": "TTL", "vm": "VM"}


def display_spelling(name: str) -> str:
    """``max_outbound_connections`` -> ``Max_Outbound_Connections`` (docs style)."""
    return "_".join(_ACRONYMS.get(part, part.capitalize()) for part in name.split("_"))


def opt(
    spelling: str,
    type_: OptionType,
    default: Any,
    scopes: Iterable[str],
    doc: str,
    *,
    implemented: bool = False,
    dynamic: bool = True,
    is_scope: bool = False,
) -> OptionSpec:
    """Declare one option. Flip ``implemented=True`` when the feature behind it works."""
    return OptionSpec(
        name=spelling.lower(),
        type=type_,
        default=default,
        scopes=frozenset(s.lower() for s in scopes),
        doc=doc,
        implemented=implemented,
        dynamic=dynamic,
        spelling=display_spelling(spelling) if spelling == spelling.lower() else spelling,
        is_scope=is_scope,
    )
