"""The address side of a Sieve message view: addresses of a header field, their RFC 5233
parts and the envelope test's parts, each cached per message.

Mixed into message_view.MessageView; read by tests_std.py (``address``, ``envelope``)
and by the code codegen.py generates (which reads ``_cache`` and ``_envelope_parts``
inline). The caches live on the view: MessageView.edit_header drops an edited name's
entries. Reads only: never changes the message, never touches the daemon.
"""
from __future__ import annotations

from .address_list import address_part, parse_addresses


class AddressAccess:
    """Address accessors over a view's ``raw_headers``, ``_cache`` and ``envelope``."""

    __slots__ = ()

    _cache: dict
    _envelope_parts: dict
    envelope: dict[str, str]

    def address_values(self, key: str) -> list[str]:
        """Addresses (``local@domain``) in the fields whose lower-case name is ``key``."""
        cache_key = ("address", key)
        values = self._cache.get(cache_key)
        if values is None:
            raw = self.raw_headers(key)
            if len(raw) == 1:  # the usual one field: its list as parsed, no comprehension
                values = parse_addresses(raw[0])
            else:
                values = [addr for value in raw for addr in parse_addresses(value)]
            self._cache[cache_key] = values
        return values

    def address_part_values(self, key: str, part: str) -> list[str]:
        """One RFC 5233 part (address_list.address_part) of each address in field ``key``."""
        cache_key = (part, key)
        values = self._cache.get(cache_key)
        if values is None:
            values = []
            for addr in self.address_values(key):  # plain loop: no generator per message
                value = address_part(addr, part)
                if value is not None:
                    values.append(value)
            self._cache[cache_key] = values
        return values

    def envelope_part_values(self, name: str, part: str) -> list[str]:
        """The ``envelope`` test's values of part ``name`` (from/to/auth): none for an
        empty to/auth, ``[""]`` for the null sender's :all (do not mutate). Cached per
        (name, part) for as long as ``envelope[name]`` holds the same string."""
        addr = self.envelope.get(name, "")
        cached = self._envelope_parts.get((name, part))
        if cached is not None and cached[0] is addr:
            return cached[1]
        bare = addr.strip("<>")
        if bare:
            value = address_part(bare, part)
        else:
            value = "" if name == "from" and part == "all" else None
        values = [] if value is None else [value]
        self._envelope_parts[(name, part)] = (addr, values)
        return values

    def addresses(self, name: str) -> list[str]:
        """Addresses (``local@domain``, no display names) in every field called ``name``."""
        return list(self.address_values(name.lower()))
