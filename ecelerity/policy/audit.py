"""In-process time-window counters shared by Lua (msys.audit*) and Sieve++ (audit_*, ec_ip_*).

Used by policy/lua/lib_series.py and policy/sieve/ext_momentum_audit.py; fed by the
scriptlet and sieve modules from the SMTP phases (connect: a connection; data_spool
not refused: a reception; a policy 4xx/5xx: a rejection), each at most once per
session or message however many modules feed it (``record_once``). One SeriesStore
lives on the daemon app (``store_for(app)``) so Lua and Sieve see the same counts
and a module reload keeps them. Node-local: there is no cluster. Never does I/O.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

AUDIT_SERIES = ("#connections", "#receptions", "#rejections")
AUDIT_WINDOW, AUDIT_WINDOWS = 60, 10


@dataclass
class Gauge:
    """Integer gauges by key; an entry untouched for ``ttl`` seconds is forgotten (0 = never)."""

    ttl: float
    values: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (value, touched)

    def get(self, key: str, now: float) -> int:
        found = self.values.get(key)
        if found is None:
            return 0
        if self.ttl and now - found[1] > self.ttl:
            del self.values[key]
            return 0
        return found[0]

    def add(self, key: str, amount: int, now: float) -> int:
        value = self.get(key, now) + amount
        self.values[key] = (value, now)
        return value


@dataclass
class Series:
    """Per key, a ring of ``windows`` counts of ``window`` seconds each."""

    window: float
    windows: int
    counts: dict[str, dict[int, int]] = field(default_factory=dict)  # key -> slot -> count

    def _live(self, key: str, now: float) -> dict[int, int]:
        current = int(now // self.window)
        slots = self.counts.get(key, {})
        for slot in [s for s in slots if s <= current - self.windows]:
            del slots[slot]
        return slots

    def add(self, key: str, amount: int, now: float) -> int:
        """Count ``amount`` for ``key`` now; returns the key's total over the live windows."""
        slots = self.bump(key, amount, now)
        oldest = int(now // self.window) - self.windows
        return sum(n for s, n in slots.items() if s > oldest)

    def bump(self, key: str, amount: int, now: float) -> dict[int, int]:
        """add() without the total (the audit hooks' path). Expired slots are dropped
        when a new slot starts (count() drops them too)."""
        slot = int(now // self.window)
        slots = self.counts.get(key)
        if slots is None:
            slots = self.counts[key] = {slot: amount}
        elif slot in slots:  # the common case: no new slot, so nothing expired since
            slots[slot] += amount
        else:
            slots = self._live(key, now)
            slots[slot] = amount
            self.counts[key] = slots
        return slots

    def count(self, key: str, now: float, windows: int | None = None) -> int:
        slots = self._live(key, now)
        current = int(now // self.window)
        last = self.windows if windows is None else max(1, min(int(windows), self.windows))
        return sum(n for slot, n in slots.items() if slot > current - last)

    def count_block(self, block: str, now: float, seconds: float | None = None) -> int:
        """Total over every key (an IP) inside ``block`` (an IP or CIDR), within ``seconds``."""
        network = ipaddress.ip_network(block.strip(), strict=False)
        windows = None if seconds is None else -(-int(seconds) // int(self.window))
        total = 0
        for key in list(self.counts):
            try:
                inside = ipaddress.ip_address(key) in network
            except ValueError:
                continue  # a named series may hold keys that are not IPs
            if inside:
                total += self.count(key, now, windows)
        return total


class SeriesStore:
    """All gauges and series of one daemon (or one offline runtime)."""

    def __init__(self) -> None:
        self.gauges: dict[str, Gauge] = {}
        self.series: dict[str, Series] = {name: Series(AUDIT_WINDOW, AUDIT_WINDOWS)
                                          for name in AUDIT_SERIES}
        # "connections" -> the "#connections" Series (record() is on every session's path)
        self._audit = {name[1:]: self.series[name] for name in AUDIT_SERIES}

    def record(self, kind: str, peer_ip: str, now: float) -> None:
        """kind is connections | receptions | rejections."""
        if peer_ip:
            self._audit[kind].bump(peer_ip, 1, now)

    def record_once(self, kind: str, vctx: Any, now: float, token: Any = None) -> bool:
        """Record ``kind`` for the vctx's peer unless a module already did for this
        session (connections) or this message (``token``: its id); True if counted.
        The vctx keeps the last token per kind (a session's messages come one after
        another): nothing grows with the messages of a long session."""
        state = vctx.__dict__
        mark = _ONCE_MARKS.get(kind) or "_audit_once_" + kind
        if state.get(mark, _NEVER) == token:
            return False
        state[mark] = token
        peer_ip = vctx.get("conn", "peer_ip")
        if peer_ip:
            self._audit[kind].bump(peer_ip, 1, now)
        return True

    def define_series(self, name: str, window: float = AUDIT_WINDOW,
                      windows: int = AUDIT_WINDOWS) -> Series:
        if float(window) <= 0 or int(windows) < 1:
            raise ValueError("window_seconds must be > 0 and windows >= 1")
        return self.series.setdefault(name, Series(float(window), int(windows)))

    def define_gauge(self, name: str, ttl: float = 300) -> Gauge:
        return self.gauges.setdefault(name, Gauge(max(0.0, float(ttl or 0))))


_NEVER = object()  # record_once: nothing recorded yet for this kind
_ONCE_MARKS = {name[1:]: "_audit_once_" + name[1:] for name in AUDIT_SERIES}


def store_for(app: Any) -> SeriesStore:
    """The daemon's store (created on first use), or a new private one without an app."""
    if app is None:
        return SeriesStore()
    return app.__dict__.setdefault("policy_audit_series", SeriesStore())
