"""Listen addresses and Peer CIDRs: parsing their stanza names and matching client IPs.

resolver_index.py calls these while indexing listener stanzas; resolver.py calls
``client_address`` for every inbound lookup. A malformed Listen or Peer name is a
ConfigError at the stanza's location. Never opens a socket: ListenSpec only says
what the SMTP/control servers should bind.

Names are read by scope_names.py, the same code the validator checks them with
(momentum-facts.md §1.6): ``":25"`` and ``"*:25"`` are IPv4 any (host ``""``),
``"[*]:25"`` IPv6 any (host ``::``), ``"[::1]:25"`` an IPv6 literal (bracketed),
``"127.0.0.1:2525"`` that address, a path (``/``, ``./``...) a Unix socket.
Peer names are CIDRs or single addresses, IPv4 or IPv6 (not bracketed); IPv4-mapped
IPv6 addresses and networks are treated as IPv4, for clients and Peer stanzas alike.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from . import scope_names
from .errors import ConfigError
from .scope_names import parse_listen_address
from .tree import Location

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ListenSpec:
    """One socket to open: ``kind`` is "tcp" (host, port) or "unix" (path)."""

    name: str  # the Listen stanza name as written
    kind: str
    host: str
    port: int | None
    path: str | None
    enabled: bool
    loc: Location | None


def parse_listen_name(name: str, loc: Location | None) -> tuple[str, str, int | None, str | None]:
    """``(kind, host, port, path)`` for a Listen stanza name (read as the validator reads it)."""
    try:
        address = parse_listen_address(name)
    except ValueError as exc:
        raise ConfigError(str(exc), loc) from None
    if address.kind == "unix":
        return "unix", "", None, address.path
    return "tcp", address.host, address.port, None


def parse_peer_network(name: str, loc: Location | None) -> IPNetwork:
    """The network a Peer stanza covers (a lone address is a /32 or /128)."""
    try:
        network = scope_names.parse_peer_network(name)
    except ValueError as exc:
        raise ConfigError(str(exc), loc) from None
    return _as_ipv4_network(network)


def _as_ipv4_network(network: IPNetwork) -> IPNetwork:
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def client_address(peer_ip: str) -> IPAddress:
    """The client's address as Peer stanzas are matched (IPv4-mapped IPv6 becomes IPv4).

    Raises ValueError for something that is not an IP address.
    """
    text = peer_ip.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.lower().startswith("ipv6:"):
        text = text[5:]
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
