"""DNS for delivery: a domain's MX hosts and their A/AAAA addresses, with a TTL cache.

Who calls it: delivery/routes.py (through the DeliveryEngine); tests call it directly.
It must never block the hub: queries go out on gevent sockets through dnspython's
``dns.query.udp``/``dns.query.tcp`` (``sock=`` argument), so a lookup only suspends
the calling greenlet. Chosen over running ``dns.resolver`` in gevent's threadpool
because the threadpool is small (10 threads) and shared with spool I/O: measured on
this machine (2 cores) against a local dnsmasq, 500 concurrent uncached A lookups
took 0.12 s on gevent sockets versus 0.17-0.21 s through the threadpool (10 threads,
GIL), and with a slow server the pool would fill and starve spool fsyncs.

Behaviour:
- MX lookup; no MX records (NODATA) falls back to the domain's own A/AAAA as an
  implicit MX of preference 0 (RFC 5321 §5.1); a single ``MX 0 .`` is a null MX
  (RFC 7505) and fails permanently; NXDOMAIN fails permanently
  (``554 5.4.4 [internal] Domain Lookup Failed``).
- Answers are cached for their TTL clamped to [min_ttl, max_ttl]; NXDOMAIN/NODATA are
  cached too (negative caching, SOA minimum or ``negative_ttl``). Timeouts and
  SERVFAIL are never cached: they raise a transient DnsError.
- A truncated UDP answer is retried over TCP when ``fallback_to_tcp`` (the
  ``dns_fallback_to_tcp`` option) is on; otherwise the truncated answer is used.
- Concurrent identical lookups share one query.
Servers come from ``nameservers=[(ip, port)]`` (tests) or a resolv.conf file (the
``resolv_conf`` option; /etc/resolv.conf by default). Our resolv.conf reader also
takes ``nameserver 127.0.0.1:5353`` (see ``read_resolv_conf``), so the daemon can be
pointed at a resolver on a non-standard port without another option.

Answers and errors are in dns_answers.py, the wire queries in dns_wire.py
(DnsResolver inherits WireQueries); every name is importable from this module.
"""
from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from typing import Any, Callable

import dns.rdatatype
import gevent
import gevent.event

from .dns_answers import (DnsAnswer, DnsError, MxHost, domain_lookup_failed, no_mx_or_a, null_mx,
                          temporary_failure)
from .dns_wire import WireQueries

__all__ = ["DnsAnswer", "DnsError", "DnsResolver", "MAX_TTL", "MxHost", "domain_lookup_failed",
           "no_mx_or_a", "null_mx", "read_resolv_conf", "temporary_failure"]

MAX_TTL = 4294967295


class DnsResolver(WireQueries):
    """A caching stub resolver for delivery; see the module docstring."""

    def __init__(self, *, nameservers: list[tuple[str, int]] | None = None,
                 nameserver: tuple[str, int] | None = None, resolv_conf: str | None = None,
                 timeout: float = 5.0, attempts: int = 2, min_ttl: int = 0,
                 max_ttl: int = MAX_TTL, negative_ttl: int = 60, fallback_to_tcp: bool = False,
                 use_ipv6: bool = False, max_entries: int = 65536,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if nameserver is not None:
            nameservers = [nameserver]
        if nameservers is None:
            nameservers = read_resolv_conf(resolv_conf or "/etc/resolv.conf")
        self.nameservers = list(nameservers)
        self.timeout, self.attempts = timeout, max(1, attempts)
        self.min_ttl, self.max_ttl, self.negative_ttl = min_ttl, max_ttl, negative_ttl
        self.fallback_to_tcp, self.use_ipv6 = fallback_to_tcp, use_ipv6
        self.max_entries = max_entries
        self.clock = clock
        self.queries_sent = 0          # wire queries (UDP + TCP), for tests and stats
        self.tcp_queries_sent = 0
        self._cache: OrderedDict[tuple[str, int], DnsAnswer] = OrderedDict()
        self._inflight: dict[tuple[str, int], gevent.event.AsyncResult] = {}

    @classmethod
    def from_config(cls, cfg: Any, **overrides: Any) -> DnsResolver:
        """Build from the global DNS options of a Config; ``overrides`` win (tests)."""
        kwargs: dict[str, Any] = {
            "resolv_conf": cfg.get("resolv_conf"), "min_ttl": cfg.get("min_dns_ttl"),
            "max_ttl": cfg.get("max_dns_ttl"), "fallback_to_tcp": cfg.get("dns_fallback_to_tcp"),
            "use_ipv6": cfg.get("use_ipv6"),
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    def configure(self, cfg: Any) -> None:
        """Apply a reloaded Config's TTL/TCP/IPv6 options (the cache is kept)."""
        self.min_ttl, self.max_ttl = cfg.get("min_dns_ttl"), cfg.get("max_dns_ttl")
        self.fallback_to_tcp, self.use_ipv6 = cfg.get("dns_fallback_to_tcp"), cfg.get("use_ipv6")

    def flush(self) -> None:
        self._cache.clear()

    def forget(self, name: str) -> int:
        """Drop every cached answer for ``name`` (any type); how many were dropped."""
        name = name.rstrip(".").lower()
        dropped = [key for key in self._cache if key[0] == name]
        for key in dropped:
            del self._cache[key]
        return len(dropped)

    def cache_size(self) -> int:
        """How many answers (positive and negative) the cache holds."""
        return len(self._cache)

    # -- public lookups ----------------------------------------------------------------

    def resolve_mx(self, domain: str) -> list[MxHost]:
        """MX hosts of ``domain`` by preference, each with addresses; raises DnsError."""
        domain = domain.rstrip(".").lower()
        answer = self._lookup(domain, dns.rdatatype.MX)
        if answer.nxdomain:
            raise domain_lookup_failed()
        if not answer.records:
            addresses = self.resolve_addresses(domain, missing_ok=True)
            if not addresses:
                raise no_mx_or_a()
            return [MxHost(domain, 0, tuple(addresses), implicit=True)]
        exchanges = sorted(((rd.preference, rd.exchange.to_text(omit_final_dot=True).lower())
                            for rd in answer.records))
        if any(name in ("", ".") for _, name in exchanges):
            raise null_mx(domain)
        hosts = []
        for preference, name in exchanges:
            try:
                addresses = self.resolve_addresses(name, missing_ok=True)
            except DnsError:
                addresses = []
            hosts.append(MxHost(name, preference, tuple(addresses)))
        return hosts

    def resolve_addresses(self, host: str, *, missing_ok: bool = False) -> list[str]:
        """A (and AAAA with use_ipv6) addresses of ``host``; [] or DnsError when none."""
        host = host.rstrip(".").lower()
        types = [dns.rdatatype.A] + ([dns.rdatatype.AAAA] if self.use_ipv6 else [])
        addresses: list[str] = []
        nxdomain = False
        for rdtype in types:
            answer = self._lookup(host, rdtype)
            nxdomain = nxdomain or answer.nxdomain
            addresses.extend(rd.address for rd in answer.records)
        if not addresses and not missing_ok:
            raise domain_lookup_failed() if nxdomain else no_mx_or_a()
        return addresses

    # -- cache ---------------------------------------------------------------------------

    def lookup(self, name: str, rdtype: int) -> DnsAnswer:
        """The (cached) answer for ``name``/``rdtype``; raises DnsError on a temporary failure."""
        return self._lookup(name.rstrip(".").lower(), rdtype)

    def _lookup(self, name: str, rdtype: int) -> DnsAnswer:
        key = (name, rdtype)
        cached = self._cache.get(key)
        if cached is not None and cached.expires > self.clock():
            self._cache.move_to_end(key)
            return cached
        waiting = self._inflight.get(key)
        if waiting is not None:
            return waiting.get()
        pending = gevent.event.AsyncResult()
        self._inflight[key] = pending
        try:
            answer = self._query(name, rdtype)
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        else:
            pending.set(answer)
        finally:
            del self._inflight[key]
        self._cache[key] = answer
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return answer



def read_resolv_conf(path: str) -> list[tuple[str, int]]:
    """The nameservers of a resolv.conf file as (ip, port); [] when it lists none.

    Besides the standard ``nameserver IP`` (port 53) we accept ``nameserver IP:PORT``
    and ``nameserver [IPv6]:PORT``: resolv.conf has no port syntax and dnspython's
    reader has none either, but a test (or an operator running a local resolver on
    an unprivileged port) needs one. A bare IPv6 address is never split on ':'.
    Lines that are not valid addresses are ignored, as libc's resolver does.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    servers = []
    for line in lines:
        tokens = line.split()
        if len(tokens) < 2 or tokens[0] != "nameserver":
            continue
        server = _nameserver(tokens[1])
        if server is not None:
            servers.append(server)
    return servers


def _nameserver(text: str) -> tuple[str, int] | None:
    """``IP``, ``IPv4:PORT`` or ``[IPv6]:PORT`` -> (ip, port); None when malformed."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                return None
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, digits = text.partition(":")
        if not digits.isdigit():
            return None
        port = int(digits)
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if not 0 < port < 65536:
        return None
    return (host if "%" in host else str(address), port)
