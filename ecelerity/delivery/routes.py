"""Where mail for a (binding, domain) goes: the ordered list of (host, IP, port) to try.

Called by delivery/engine.py. Precedence: a gateway the policy chose for the message
(``message_gateway``: Sieve ``ec_set_routing_gateway`` -> message context
``routing_gateway``, per recipient ``routing_gateway:<address>``; an IP literal, or a
name whose MX set -- else its A record -- is used, as Momentum documents; the queue
keys such a message by the gateway, so the options of the gateway's name apply), then
``gateway`` (static smarthost, MX ignored),
else ``routes`` (hostnames, IPs, ``__mx__`` or ``smtp://host?pref=P&port=O&type=mx|a``;
items without a pref keep their listed order), else the domain's MX set from
delivery/dns.py (equal preferences shuffled so load spreads evenly). ``prohibited_hosts``
(CIDRs) and ``skip_hosts`` (names or IPs) are removed; when nothing is left the
result is ``451 4.4.1 [internal] No valid hosts``. Raises RouteError with the internal
reason; never connects anywhere and never reads config except through the resolver.
"""
from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .dns import DnsError, DnsResolver


class RouteError(Exception):
    def __init__(self, code: int, enhanced: str, text: str) -> None:
        super().__init__(f"{code} {enhanced} {text}")
        self.code, self.enhanced, self.text = code, enhanced, text


def no_valid_hosts() -> RouteError:
    return RouteError(451, "4.4.1", "[internal] No valid hosts")


@dataclass(frozen=True)
class Target:
    host: str          # the name the address came from (for TLS host checks, skip_hosts)
    ip: str
    port: int
    preference: int


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _split_hostport(item: str) -> tuple[str, int | None]:
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, colon, port = item.rpartition(":")
    if colon and port.isdigit() and ":" not in host:
        return host, int(port)
    return item, None


def _host_targets(dns: DnsResolver, host: str, port: int, preference: int) -> list[Target]:
    if _is_ip(host):
        return [Target(host, host, port, preference)]
    try:
        addresses = dns.resolve_addresses(host, missing_ok=True)
    except DnsError:
        addresses = []
    return [Target(host, ip, port, preference) for ip in addresses]


def _mx_targets(dns: DnsResolver, domain: str, port: int, base: int = 0) -> list[Target]:
    try:
        hosts = dns.resolve_mx(domain)
    except DnsError as exc:
        raise RouteError(exc.code, exc.enhanced, exc.text) from exc
    targets: list[Target] = []
    for preference in sorted({host.preference for host in hosts}):
        level = [host for host in hosts if host.preference == preference]
        random.shuffle(level)
        for host in level:
            targets += [Target(host.name, ip, port, base + preference) for ip in host.addresses]
    return targets


def _route_targets(dns: DnsResolver, item: str, domain: str, port: int, ordinal: int) -> list[Target]:
    if item.lower() == "__mx__":
        return _mx_targets(dns, domain, port, ordinal)
    if item.lower().startswith("smtp://"):
        url = urlsplit(item)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        preference = int(query.get("pref", ordinal))
        port = int(query.get("port", url.port or port))
        host = url.hostname or ""
        if query.get("type", "a").lower() == "mx":
            return _mx_targets(dns, host, port, preference)
        return _host_targets(dns, host, port, preference)
    host, item_port = _split_hostport(item)
    return _host_targets(dns, host, item_port or port, ordinal)


GATEWAY_KEY = "routing_gateway"


def message_gateway(message: Any) -> str | None:
    """The gateway a policy chose for ``message`` (a SpooledMessage), or None: the
    message context's ``routing_gateway:<recipient address>`` (set in each_rcpt for that
    recipient), else ``routing_gateway`` (set for the whole message)."""
    context = message.envelope.mess_context
    if not context:
        return None
    chosen = context.get(f"{GATEWAY_KEY}:{message.recipient.address.lower()}") \
        or context.get(GATEWAY_KEY) or ""
    return chosen.strip() or None


def gateway_targets(dns: DnsResolver, gateway: str, port: int) -> list[Target]:
    """Targets of a per-message gateway ``host[:port]``: an IP literal as it is, else
    the name's MX set (its A record when it has no MX: the implicit MX). A name that
    does not resolve is a transient RouteError, as a static ``gateway`` is."""
    host, item_port = _split_hostport(gateway)
    if not host:
        raise RouteError(451, "4.4.1", f"[internal] invalid routing gateway {gateway!r}")
    if _is_ip(host):
        return [Target(host, host, item_port or port, 0)]
    try:
        return _mx_targets(dns, host, item_port or port)
    except RouteError as exc:   # like a static gateway that does not resolve: retried
        raise RouteError(451, "4.4.1", f"[internal] routing gateway {gateway}: {exc.text}") from exc


def resolve_targets(cfg: Any, dns: DnsResolver, binding: str | None, domain: str, *,
                    default_port: int | None = None,
                    chosen_gateway: str | None = None) -> list[Target]:
    """The ordered delivery targets for ``domain`` from ``binding``; raises RouteError.
    ``default_port`` (LMTP: ``lmtp_port``) replaces ``remote_smtp_port``;
    ``chosen_gateway`` (a policy's, see ``message_gateway``) overrides gateway and routes."""
    port = default_port or cfg.get("remote_smtp_port", binding=binding, domain=domain)
    if chosen_gateway:
        targets = _filter(cfg, gateway_targets(dns, chosen_gateway, port))
        if not targets:
            raise no_valid_hosts()
        return targets
    gateway = cfg.get("gateway", binding=binding, domain=domain)
    routes = cfg.get("routes", binding=binding, domain=domain)
    if gateway is not None:
        targets = _host_targets(dns, gateway.host, gateway.port or port, 0)
        if not targets:
            raise no_valid_hosts()
    elif routes:
        targets = []
        for ordinal, item in enumerate(routes):
            try:
                targets += _route_targets(dns, item, domain, port, ordinal)
            except RouteError:
                if len(routes) == 1:
                    raise
        targets.sort(key=lambda target: target.preference)
    else:
        targets = _mx_targets(dns, domain, port)
    targets = _filter(cfg, targets)
    if not targets:
        raise no_valid_hosts()
    return targets


def _filter(cfg: Any, targets: list[Target]) -> list[Target]:
    prohibited = cfg.get("prohibited_hosts") or []
    skipped = {name.lower().rstrip(".") for name in cfg.get("skip_hosts") or []}
    kept, seen = [], set()
    for target in targets:
        address = ipaddress.ip_address(target.ip)
        if any(address.version == net.version and address in net for net in prohibited):
            continue
        if target.host.lower() in skipped or target.ip in skipped:
            continue
        if (target.ip, target.port) in seen:
            continue
        seen.add((target.ip, target.port))
        kept.append(target)
    return kept
