"""Scope names as the resolver matches them: domains, hosts, IP literals, /regex/ names.

Used by resolver_index.py when it indexes Domain/Host stanzas and by resolver.py
when it normalises the domain or host it is asked about, so both sides of a
match are spelled the same way. Pure functions; never reads configuration values.

Rules (momentum-facts.md §1.3):
- domain and host names are case-insensitive; a trailing dot is ignored;
- IP-literal names (``192.0.43.10``, ``[192.0.43.10]``, ``[IPv6:fd82::1]``) are
  compared as canonical addresses, so every spelling of one address matches;
- ``/.../`` names are regular expressions, matched with ``re.search`` on the
  lowercase name (Python ``re`` stands in for PCRE; the common subset agrees).
"""
from __future__ import annotations

import ipaddress
import re

from .errors import ConfigError
from .scope_names import is_regex_name
from .tree import Location


def normalize_domain(name: str) -> str:
    """The key a domain/host name is matched under (regex names are kept as written)."""
    if is_regex_name(name):
        return name
    text = name.strip().lower().rstrip(".")
    literal = text
    if literal.startswith("[") and literal.endswith("]"):
        literal = literal[1:-1]
        if literal.startswith("ipv6:"):
            literal = literal[5:]
    if not (literal[:1].isdigit() or ":" in literal):
        return text  # cannot be an address: skip the (slow) failing parse
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        return text


def regex_subject(name: str) -> str:
    """What a /regex/ stanza is matched against: the lowercase name, no trailing dot."""
    return name.strip().lower().rstrip(".")


def compile_regex_name(name: str, loc: Location) -> re.Pattern[str]:
    """Compile a ``/.../`` stanza name once; a bad pattern is a ConfigError at its location."""
    pattern = name[1:-1]
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"invalid regular expression {name!r}: {exc}", loc) from None


def escape_path_name(name: str) -> str:
    """Momentum's console path notation escapes ':' inside names as '\\:'."""
    return name.replace(":", "\\:")


def scope_path_string(scope_id: tuple[tuple[str, str | None], ...]) -> str:
    """``binding_group:g1::binding:b1::domain:example.com``; the empty id is ``global``."""
    if not scope_id:
        return "global"
    parts = []
    for kind, name in scope_id:
        parts.append(kind if name is None else f"{kind}:{escape_path_name(name)}")
    return "::".join(parts)
