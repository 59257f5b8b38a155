"""Addresses in a header value, for the Sieve ``address`` test, and the RFC 5233 parts.

Called by message_addresses.py (addresses of a field, once per message) and tests_std.py
(``:localpart`` / ``:domain`` / ``:user`` / ``:detail``). The common shapes --
``local@domain`` and ``Display Name <local@domain>`` with dot-atom parts and a plain
display name -- are recognised with one regex; anything else (quoted strings, groups,
comments, several addresses, routes, obsolete syntax) goes to the stdlib
``email.utils.getaddresses``, which the fast path agrees with (the tests compare
them). Never raises on malformed text.
"""
from __future__ import annotations

import re
from email.utils import getaddresses

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDR_SPEC = rf"{_DOT_ATOM}@{_DOT_ATOM}"
_PHRASE_WORD = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE = re.compile(
    rf"[ \t]*(?:({_ADDR_SPEC})|(?:{_PHRASE_WORD}(?:[ \t]+{_PHRASE_WORD})*[ \t]*)?<({_ADDR_SPEC})>)[ \t]*")


def parse_addresses(value: str) -> list[str]:
    """``local@domain`` of every address in one header value (display names dropped)."""
    found = _SIMPLE.fullmatch(value)
    if found is not None:
        return [found.group(1) or found.group(2)]
    return [addr for _display, addr in getaddresses([value]) if addr]


def address_part(address: str, part: str) -> str | None:
    """:all, :localpart, :domain, :user, :detail (RFC 5233, separator '+')."""
    if part == "all":
        return address
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    if part == "localpart":
        return local
    if part == "domain":
        return domain
    user, plus, detail = local.partition("+")
    if part == "user":
        return user
    return detail if plus else None
