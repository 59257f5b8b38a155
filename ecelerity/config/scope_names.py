"""Syntax of scope instance names: Listen addresses, Peer CIDRs, regex domains, binding names.

The validator calls these to check a stanza's name; the resolver and the listeners may
call ``parse_listen_address`` / ``parse_peer_network`` to read the same names the same
way. Each check returns or raises a message *without* a location (the caller knows
where the stanza is). Never touches the network or the filesystem: a unix socket path
is checked for shape only.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

LISTEN_FORMS = "ip:port, [ipv6]:port, :port, *:port, [*]:port or a unix socket path"


@dataclass(frozen=True)
class ListenAddress:
    """One socket: ``kind`` is "tcp" (host "" means every IPv4 address, "::" every IPv6) or "unix"."""

    kind: str
    host: str = ""
    port: int = 0
    path: str = ""


def parse_listen_address(name: str) -> ListenAddress:
    """Read a ``Listen`` stanza name; raise ValueError(message) when it is not an address.

    A name containing ``/`` and no ``:port`` tail is a unix socket path (relative paths are
    relative to the daemon's working directory). IPv6 must be bracketed, as in Momentum.
    """
    text = name.strip()
    if not text:
        raise ValueError(f"invalid Listen address '{name}': expected {LISTEN_FORMS}")
    if text.startswith(("/", "./", "../")):
        return ListenAddress("unix", path=text)
    if "/" in text and not re.fullmatch(r"\[[^\]]*\]:\d+|[^\[\]]*:\d+", text):
        return ListenAddress("unix", path=text)
    if text.startswith("["):
        match = re.fullmatch(r"\[([^\]]*)\]:(\d+)", text)
        if match is None:
            raise ValueError(f"invalid Listen address '{name}': expected {LISTEN_FORMS}")
        host = match.group(1)
        if host == "*":
            host = "::"
        else:
            _require_ip(name, host, version=6)
    else:
        host, sep, port_text = text.rpartition(":")
        match = re.fullmatch(r"\d+", port_text) if sep else None
        if match is None:
            raise ValueError(f"invalid Listen address '{name}': expected {LISTEN_FORMS}")
        if ":" in host:
            raise ValueError(
                f"invalid Listen address '{name}': IPv6 addresses must be bracketed, e.g. '[::1]:25'"
            )
        if host == "*":
            host = ""
        elif host:
            _require_ip(name, host, version=4)
    port = int(text.rsplit(":", 1)[1])
    if port > 65535:
        raise ValueError(f"invalid Listen address '{name}': port {port} is out of range (0-65535)")
    return ListenAddress("tcp", host=host, port=port)


def _require_ip(name: str, host: str, *, version: int) -> None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"invalid Listen address '{name}': '{host}' is not an IP address") from None
    if address.version != version:
        raise ValueError(f"invalid Listen address '{name}': expected {LISTEN_FORMS}")


def parse_peer_network(name: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Read a ``Peer`` stanza name (an IP or CIDR, IPv6 unbracketed); raise ValueError(message)."""
    text = name.strip()
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"invalid Peer address '{name}': expected an IP address or CIDR such as '10.0.0.0/8'"
        ) from None


def is_regex_name(name: str) -> bool:
    """``/.../`` names of domain and host stanzas are regular expressions."""
    return len(name) >= 2 and name.startswith("/") and name.endswith("/")


def check_regex_name(kind: str, name: str) -> str | None:
    """Error message when a ``/regex/`` domain or host name does not compile, else None."""
    try:
        re.compile(name[1:-1])
    except re.error as exc:
        return f"invalid regex {kind} '{name}': {exc}"
    return None


def check_instance_name(kind: str, name: str) -> str | None:
    """Binding and binding_group names: no whitespace; bindings also no colons (Momentum rules)."""
    if not name:
        return f"{kind} name must not be empty"
    if any(ch.isspace() for ch in name):
        return f"{kind} name '{name}' must not contain spaces"
    if kind == "binding" and ":" in name:
        return f"binding name '{name}' must not contain colons"
    return None
