"""msys.parseRFC2822Addresses: split an address header into its mailboxes.

Installed by libraries.py. ``msys.parseRFC2822Addresses(str)`` returns an array of
tables ``{name=, address=, localpart=, domain=}`` (group syntax flattened,
empty entries dropped); Momentum leaves the result shape undocumented, this is ours.
Never does I/O.
"""
from __future__ import annotations

from email.utils import getaddresses
from typing import Any


def parse_addresses(runtime: Any, header_value: bytes) -> Any:
    text = bytes(header_value).decode("utf-8", "surrogateescape")
    found = []
    for name, address in getaddresses([text]):
        if not address:
            continue
        localpart, _, domain = address.rpartition("@") if "@" in address else (address, "", "")
        found.append({"name": name, "address": address, "localpart": localpart,
                      "domain": domain})
    return runtime.to_lua(found)


FUNCTIONS = {"msys.parseRFC2822Addresses": parse_addresses}
