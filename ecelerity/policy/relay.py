"""Relay control: may this client hand us mail for this recipient domain?

Called by the SMTP session for each RCPT TO with values it resolved once per
connection (open_relay, relay_hosts, relay_domains, the authenticated user, the
``can_relay`` context variable). The rule, first match wins:

1. ``open_relay = true`` (usually in a Peer scope): allowed.
2. the client is authenticated (SMTP AUTH) or a policy set ``can_relay = true``: allowed.
3. the peer IP is inside one of ``relay_hosts`` (CIDRs or single addresses, IPv6
   written without brackets): allowed.
4. the recipient domain matches ``relay_domains`` (we are the inbound gateway for
   it): allowed. Matching is case-insensitive; ``*`` matches any run of
   characters, so ``*.example.com`` matches ``a.example.com`` but not
   ``example.com`` itself, and ``*example.com`` also matches ``badexample.com``
   (momentum-facts.md §1.6). The bare ``postmaster`` recipient is always local.
5. otherwise: ``550 5.7.1 relaying denied``.

The domain is the one after the last ``@`` of the mailbox once any source route
(``@a,@b:``) was stripped; ``%`` and ``!`` in the local part are never
interpreted. Never does I/O; pure functions over parsed values.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RelayDecision:
    allowed: bool
    reason: str  # "open_relay" | "authenticated" | "can_relay" | "relay_hosts" | "relay_domains" | "postmaster" | "denied"


def parse_networks(items: Iterable[str] | None) -> tuple[IPNetwork, ...]:
    """``("10.0.0.0/8", "::1", "192.0.2.7")`` -> networks. Raises ValueError naming the bad item."""
    nets = []
    for item in items or ():
        text = str(item).strip().strip("[]")
        try:
            nets.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"relay_hosts: {item!r} is not an IP address or CIDR") from None
    return tuple(nets)


@lru_cache(maxsize=4096)
def peer_in_networks(peer_ip: str, networks: tuple[IPNetwork, ...]) -> bool:
    """Whether the peer is inside one of the networks (cached: the same clients and the
    same configured tuple come back for every connection; ip_address() parsing is slow)."""
    try:
        addr = ipaddress.ip_address(peer_ip.split("%")[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in networks)


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.lower().split("*")]
    return re.compile(".*".join(parts) + r"\Z", re.DOTALL)


def domain_matches(domain: str, patterns: Iterable[str] | None) -> bool:
    """True when ``domain`` matches one relay_domains entry (see module doc for the glob rule)."""
    name = domain.lower().rstrip(".")
    if not name:
        return False
    for pattern in patterns or ():
        pattern = str(pattern).strip().lower().rstrip(".")
        if not pattern:
            continue
        if "*" in pattern:
            if _glob_regex(pattern).match(name):
                return True
        elif pattern == name:
            return True
    return False


def relay_decision(*, rcpt_domain: str, peer_ip: str, open_relay: bool = False,
                   relay_hosts: tuple[IPNetwork, ...] = (), relay_domains: Iterable[str] | None = None,
                   authenticated: bool = False, can_relay: bool = False) -> RelayDecision:
    """Decide whether RCPT TO for ``rcpt_domain`` from ``peer_ip`` is acceptable."""
    if open_relay:
        return RelayDecision(True, "open_relay")
    if authenticated:
        return RelayDecision(True, "authenticated")
    if can_relay:
        return RelayDecision(True, "can_relay")
    if relay_hosts and peer_in_networks(peer_ip, relay_hosts):
        return RelayDecision(True, "relay_hosts")
    if rcpt_domain == "":
        return RelayDecision(True, "postmaster")
    if domain_matches(rcpt_domain, relay_domains):
        return RelayDecision(True, "relay_domains")
    return RelayDecision(False, "denied")
