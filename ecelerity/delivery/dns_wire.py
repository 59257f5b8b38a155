"""The wire half of the delivery resolver: one query out, over UDP (then TCP), to each server.

Who calls it: delivery/dns.py's DnsResolver inherits WireQueries; its cache calls
``_query`` on a miss (one per name and type at a time: concurrent lookups share it).
Queries go out on gevent sockets through dnspython's ``dns.query.udp``/``dns.query.tcp``
(``sock=`` argument), so a query only suspends the calling greenlet: it never blocks
the hub. Every server is tried ``attempts`` times; timeouts, socket errors and
SERVFAIL-like answers raise a transient DnsError (never cached); NXDOMAIN and NODATA
are answers with a negative TTL (SOA minimum, else ``negative_ttl``), clamped to
[min_ttl, max_ttl] like positive ones. It never touches the cache.
"""
from __future__ import annotations

from typing import Callable

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from gevent import socket as gsocket

from .dns_answers import DnsAnswer, temporary_failure


class WireQueries:
    """The query half of DnsResolver; the attributes it uses are set by the resolver."""

    nameservers: list[tuple[str, int]]
    timeout: float
    attempts: int
    min_ttl: int
    max_ttl: int
    negative_ttl: int
    fallback_to_tcp: bool
    clock: Callable[[], float]
    queries_sent: int
    tcp_queries_sent: int

    def _clamp(self, ttl: int) -> int:
        return max(self.min_ttl, min(self.max_ttl, ttl))

    # -- the wire ------------------------------------------------------------------------

    def _query(self, name: str, rdtype: int) -> DnsAnswer:
        if not self.nameservers:
            raise temporary_failure("no nameservers configured")
        query = dns.message.make_query(name, rdtype)
        last = "no answer"
        for _ in range(self.attempts):
            for server in self.nameservers:
                try:
                    response = self._exchange(query, server)
                except (OSError, dns.exception.DNSException, EOFError) as exc:
                    last = f"{type(exc).__name__} from {server[0]}:{server[1]}"
                    continue
                rcode = response.rcode()
                if rcode == dns.rcode.NXDOMAIN:
                    return DnsAnswer([], True, self.clock() + self._negative_ttl(response))
                if rcode != dns.rcode.NOERROR:
                    last = f"{dns.rcode.to_text(rcode)} from {server[0]}:{server[1]}"
                    continue
                return self._positive(response, name, rdtype)
        raise temporary_failure(f"{name} {dns.rdatatype.to_text(rdtype)}: {last}")

    def _positive(self, response: dns.message.Message, name: str, rdtype: int) -> DnsAnswer:
        records, ttls = [], []
        for rrset in response.answer:
            if rrset.rdtype == rdtype:
                records.extend(rrset)
                ttls.append(rrset.ttl)
        if not records:
            return DnsAnswer([], False, self.clock() + self._negative_ttl(response))
        return DnsAnswer(records, False, self.clock() + self._clamp(min(ttls)))

    def _negative_ttl(self, response: dns.message.Message) -> int:
        for rrset in response.authority:
            if rrset.rdtype == dns.rdatatype.SOA:
                return self._clamp(min(rrset.ttl, rrset[0].minimum))
        return self._clamp(self.negative_ttl)

    def _exchange(self, query: dns.message.Message, server: tuple[str, int]) -> dns.message.Message:
        family = gsocket.AF_INET6 if ":" in server[0] else gsocket.AF_INET
        sock = gsocket.socket(family, gsocket.SOCK_DGRAM)
        sock.settimeout(self.timeout)
        try:
            self.queries_sent += 1
            response = dns.query.udp(query, server[0], port=server[1], sock=sock,
                                     raise_on_truncation=self.fallback_to_tcp)
        except dns.message.Truncated:
            return self._exchange_tcp(query, server)
        finally:
            sock.close()
        return response

    def _exchange_tcp(self, query: dns.message.Message,
                      server: tuple[str, int]) -> dns.message.Message:
        self.queries_sent += 1
        self.tcp_queries_sent += 1
        sock = gsocket.create_connection(server, timeout=self.timeout)
        try:
            return dns.query.tcp(query, server[0], port=server[1], sock=sock)
        finally:
            sock.close()
