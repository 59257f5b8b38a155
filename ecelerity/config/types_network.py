"""Network option value types: CIDRs, host[:port] and email addresses.

Who calls it: types.py re-exports these names and builds the shared instances (CIDR,
CIDR_LIST, HOSTPORT, ADDRESS_LIST); ``parse_cidr`` / ``parse_hostport`` are public
for code that reads such text outside an option. Pure and fast: no DNS, no I/O; never
raises anything but ConfigValueError (without a location) for bad input.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .tree import Value
from .types_base import ConfigValueError, OptionType, quote, scalar_text


@dataclass(frozen=True)
class HostPort:
    """``host``, ``host:port``, ``[v6]:port``; ``port`` is None when not given."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"



IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_cidr(text: str) -> IPNetwork:
    """``10.0.0.0/8``, ``10.0.0.1``, ``2001:db8::/32``, ``::1`` (IPv6 never bracketed)."""
    text = text.strip()
    if text.startswith("["):
        raise ConfigValueError(
            f"expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32 "
            f"(IPv6 is not bracketed here), got '{text}'"
        )
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConfigValueError(
            f"expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32, got '{text}'"
        ) from None


class CidrType(OptionType):
    name = "cidr"
    doc = "an IP address or CIDR"

    def parse(self, value: Value) -> IPNetwork:
        return parse_cidr(scalar_text(value, self.doc))

    def render(self, py_value: Any) -> str:
        return f'"{py_value.with_prefixlen}"'


_ADDRESS = re.compile(r"^[^\s@<>]+@[^\s@<>]+$")


class AddressType(OptionType):
    """An email address ``local@domain`` (no angle brackets)."""

    name = "address"
    doc = "an email address like user@example.com"

    def parse(self, value: Value) -> str:
        text = scalar_text(value, self.doc)
        if not _ADDRESS.match(text):
            raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")
        return text

    def render(self, py_value: Any) -> str:
        return quote(str(py_value))


_HOSTNAME = re.compile(r"^[A-Za-z0-9_*]([A-Za-z0-9_.*-]*[A-Za-z0-9_*])?\.?$")


def parse_hostport(text: str) -> HostPort:
    """``host``, ``host:port``, ``1.2.3.4:25``, ``[2001:db8::1]:25``, ``[v6]``, bare v6."""
    expected = f"expected host, host:port or [IPv6]:port, got '{text}'"
    text = text.strip()
    port_text = None
    if text.startswith("["):
        match = re.fullmatch(r"\[([^\]]+)\](?::([0-9]+))?", text)
        if match is None:
            raise ConfigValueError(expected)
        host, port_text = match.group(1), match.group(2)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigValueError(expected) from None
    elif text.count(":") > 1:
        try:
            return HostPort(str(ipaddress.IPv6Address(text)))
        except ValueError:
            raise ConfigValueError(expected) from None
    else:
        host, _, port_text = text.partition(":")
        port_text = port_text if ":" in text else None
        if not _HOSTNAME.match(host):
            raise ConfigValueError(expected)
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigValueError(expected)
        port = int(port_text)
    return HostPort(host, port)


class HostPortType(OptionType):
    name = "hostport"
    doc = "host, host:port or [IPv6]:port"

    def parse(self, value: Value) -> HostPort:
        return parse_hostport(scalar_text(value, self.doc))

    def render(self, py_value: Any) -> str:
        return f'"{py_value}"'
