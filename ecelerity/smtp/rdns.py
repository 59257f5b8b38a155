"""Reverse DNS of SMTP clients for our Received: header, bounded in time and cached.

SMTPService owns one ReverseDns; with ``received_rdns = true`` a session calls
``start(peer_ip)`` when the client connects, which launches the PTR lookup in its own
greenlet (through delivery/dns.py's DnsResolver: gevent sockets, TTL cache shared
with delivery when the daemon has a delivery engine), so the lookup runs while the
client sends EHLO/MAIL/RCPT/DATA. When the Received: header is written, the session
calls ``PendingName.name(deadline)``: the answer if it is in, else it waits at most
until ``deadline`` (connect time + ``received_rdns_timeout``) and then goes on with
the address alone. A session therefore never waits on DNS longer than that bound,
and usually not at all.

The first PTR name is used as given (no forward confirmation: it sits in a comment
of the trace header, for humans). Answers are cached by the resolver for their TTL;
timeouts and server failures, which the resolver does not cache, are remembered
here for FAILURE_TTL seconds so a client whose DNS is broken costs one wait, not one
per connection. Momentum's own Received: carries no rDNS: the option is ours and
off by default. Never blocks the hub, never raises into a session.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Callable

import dns.exception
import dns.rdatatype
import dns.reversename
import gevent

log = logging.getLogger("ecelerity.smtp")

FAILURE_TTL = 60.0
MAX_FAILURES = 4096


class PendingName:
    """One client's PTR lookup in progress (or already answered)."""

    def __init__(self, greenlet: Any = None, value: str | None = None) -> None:
        self._greenlet = greenlet
        self._value = value

    def name(self, deadline: float) -> str | None:
        """The PTR name, or None when there is none or it did not come by ``deadline``."""
        if self._greenlet is None:
            return self._value
        wait = deadline - time.monotonic()
        if not self._greenlet.ready():
            if wait <= 0:
                return None
            self._greenlet.join(timeout=wait)
            if not self._greenlet.ready():
                return None
        return self._greenlet.value if self._greenlet.successful() else None


class ReverseDns:
    """PTR lookups for clients; ``resolver`` is a callable returning a DnsResolver."""

    def __init__(self, resolver: Callable[[], Any], *, clock: Callable[[], float] = time.monotonic):
        self._resolver = resolver
        self._clock = clock
        self._failed: OrderedDict[str, float] = OrderedDict()  # ip -> until when
        self.lookups = 0  # PTR lookups started (tests, stats)

    def start(self, peer_ip: str) -> PendingName:
        """Launch the lookup for ``peer_ip`` (or answer at once from the failure cache)."""
        until = self._failed.get(peer_ip)
        if until is not None:
            if until > self._clock():
                return PendingName(value=None)
            del self._failed[peer_ip]
        try:
            qname = dns.reversename.from_address(peer_ip.split("%", 1)[0]).to_text()
        except (ValueError, TypeError, dns.exception.DNSException):
            return PendingName(value=None)  # a Unix-socket client or something odd
        self.lookups += 1
        return PendingName(gevent.spawn(self._lookup, peer_ip, qname))

    def _lookup(self, peer_ip: str, qname: str) -> str | None:
        try:
            answer = self._resolver().lookup(qname, dns.rdatatype.PTR)
        except gevent.GreenletExit:
            raise
        except Exception as exc:  # noqa: BLE001 - DNS trouble must never cost the session
            log.debug("PTR lookup for %s failed: %s", peer_ip, exc)
            self._remember_failure(peer_ip)
            return None
        for record in answer.records:
            name = record.target.to_text(omit_final_dot=True)
            if name:
                return name
        return None

    def _remember_failure(self, peer_ip: str) -> None:
        self._failed[peer_ip] = self._clock() + FAILURE_TTL
        self._failed.move_to_end(peer_ip)
        while len(self._failed) > MAX_FAILURES:
            self._failed.popitem(last=False)
