"""AUTH brute-force accounting: recent failures per peer and the tarpit base delay.

Used by smtp/auth.py only (``peer_failures(session)`` before an AUTH exchange and after
a failed one; ``failure_delay(settings)`` for the tarpit). A peer is its IPv4 address
or its IPv6 /64 (``peer_key``). Each SMTPService gets one PeerFailures table (made on
first use, dropped with the service): at most PEER_TABLE_SIZE peers, least recently
failing dropped first, each forgotten PEER_WINDOW seconds after its last failure; a
success never resets it. ``auth_failure_delay = 0`` turns the tarpit and this table off.
Per process; never blocks, never logs, never reads configuration beyond the settings.
"""
from __future__ import annotations

import ipaddress
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .session import Session

MAX_FAILURES = 5
MAX_DELAY = 8.0
DEFAULT_FAILURE_DELAY = 1.0
PEER_TABLE_SIZE = 65536  # peers whose recent failures are remembered
PEER_WINDOW = 600.0  # seconds a peer's failures are remembered after its last one


def peer_key(ip: str) -> str:
    """What a peer's failures are counted under: its IPv4 address, or its IPv6 /64."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class PeerFailures:
    """Recent AUTH failures per peer key: LRU-bounded, each entry expiring ``window``
    seconds after its last failure. ``clock`` is injectable (tests)."""

    def __init__(self, capacity: int = PEER_TABLE_SIZE, window: float = PEER_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.window = window
        self.clock = clock
        self._entries: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, last)

    def __len__(self) -> int:
        return len(self._entries)

    def count(self, key: str) -> int:
        """Failures of ``key`` still inside the window (0 once expired)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0
        if self.clock() - entry[1] >= self.window:
            del self._entries[key]
            return 0
        return entry[0]

    def record(self, key: str) -> int:
        """One more failure of ``key``; returns its count, this one included."""
        failures = self.count(key) + 1
        self._entries[key] = (failures, self.clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return failures


_peer_tables: "weakref.WeakKeyDictionary[Any, PeerFailures]" = weakref.WeakKeyDictionary()


def peer_failures(session: "Session") -> PeerFailures | None:
    """The session's service's table (made on first use); None without a service or tarpit."""
    service = session.service
    if service is None or failure_delay(session.settings) <= 0:
        return None
    table = _peer_tables.get(service)
    if table is None:
        table = _peer_tables[service] = PeerFailures()
    return table


def failure_delay(settings: Any) -> float:
    """``auth_failure_delay`` in seconds (DEFAULT_FAILURE_DELAY when unset; never < 0)."""
    base = getattr(settings, "auth_failure_delay", None)
    return DEFAULT_FAILURE_DELAY if base is None else max(0.0, float(base))
