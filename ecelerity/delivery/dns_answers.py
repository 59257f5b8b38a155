"""What a DNS lookup for delivery gives back: answers, MX hosts and DnsError.

Who calls it: delivery/dns.py (the resolver and its wire half, dns_wire.py) builds
these; routes.py, the DKIM verifier, the policy DNS functions and the SMTP rDNS check
read them through delivery/dns.py, which re-exports every name here. The DnsError
factories hold the SMTP code, enhanced status and Momentum's ``[internal]`` text each
failure is reported with. Plain data: no I/O, never raises by itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DnsError(Exception):
    """A lookup that gave no usable answer, as an SMTP-style internal reason."""

    def __init__(self, code: int, enhanced: str, text: str) -> None:
        super().__init__(f"{code} {enhanced} {text}")
        self.code, self.enhanced, self.text = code, enhanced, text

    @property
    def permanent(self) -> bool:
        return self.code >= 500


def domain_lookup_failed() -> DnsError:
    return DnsError(554, "5.4.4", "[internal] Domain Lookup Failed")


def null_mx(domain: str) -> DnsError:
    return DnsError(556, "5.1.10", f"[internal] {domain} does not accept mail (null MX, RFC 7505)")


def no_mx_or_a() -> DnsError:
    return DnsError(454, "4.4.4", "[internal] no MX or A for domain")


def temporary_failure(what: str) -> DnsError:
    return DnsError(451, "4.4.3", f"[internal] DNS lookup failed: {what}")


@dataclass(frozen=True)
class MxHost:
    """One exchanger of a domain: its name, MX preference and resolved addresses."""

    name: str
    preference: int
    addresses: tuple[str, ...]
    implicit: bool = False  # True when this is the RFC 5321 §5.1 fallback to the A record


@dataclass
class DnsAnswer:
    """One cached answer: the rdata of the asked type, NXDOMAIN flag, expiry (clock time)."""

    records: list[Any]          # rdata objects; empty for NXDOMAIN / NODATA
    nxdomain: bool
    expires: float
