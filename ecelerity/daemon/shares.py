"""A worker's view of the configuration: its spool partition, its sockets, its share of limits.

Who calls it: daemon/workers.py wraps every Config a worker loads (start-up and each
reload) in a ``ConfigView``; every service then reads ``app.config`` as before and
gets this worker's values without knowing that other workers exist. Everything the
view does not change is delegated to the wrapped Config untouched.

What changes (the design is in daemon/supervisor.py's docstring):

- ``spoolbase`` -> ``<spoolbase>/w<index>`` (one spool partition per worker);
- ``listens("control_listener")`` -> only this worker's private unix socket (the
  supervisor owns the configured control sockets); ``listens("esmtp_listener")`` drops
  unix-socket Listens except in worker 0 (SO_REUSEPORT exists for TCP only);
- ``reuse_port`` is True (smtp/server.py sets SO_REUSEPORT on its TCP listeners);
- limits: each configured value V of the options in ``UNIT_SHARED`` is split into V whole
  units dealt round-robin over the N workers starting at a hash of the scope, so the
  shares add up to exactly V and every worker holds at least one unit when V >= N.
  When 0 < V < N for a connection limit or an outbound throttle, the scope is instead
  held whole by one worker at a time through a lease (daemon/leases.py): the holder
  gets V, the others 0 (they do not deliver to it). Inbound limits below N cannot be
  expressed as 0 (0 means "unlimited" there): such a worker gets a share of 1 and the
  supervisor writes a warning to the paniclog (see ``small_inbound_limits``).

Never caches a value across a reload (a new Config gets a new view); never blocks the hub.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from typing import Any

from ecelerity.config.types import Rate

CONNECTION_LIMITS = ("max_outbound_connections", "server_max_outbound_connections")
OUTBOUND_THROTTLES = ("outbound_throttle_messages", "outbound_throttle_connections")
INBOUND_COUNTS = ("listener_sessions", "service_sessions", "peer_sessions")
INBOUND_RATES = ("inbound_throttle_messages",)
UNIT_SHARED = CONNECTION_LIMITS + OUTBOUND_THROTTLES + INBOUND_COUNTS + INBOUND_RATES


def scope_offset(key: tuple, count: int) -> int:
    """Where the round-robin deal of a scope's units starts: stable across processes."""
    digest = hashlib.blake2b(repr(key).encode("utf-8", "replace"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def unit_share(value: int, index: int, count: int, key: tuple) -> int:
    """Worker ``index``'s part of ``value`` whole units dealt over ``count`` workers.

    The parts of all workers add up to exactly ``value``; they differ by at most one.
    """
    if count <= 1 or value <= 0:
        return value
    base, extra = divmod(value, count)
    position = (index - scope_offset(key, count)) % count
    return base + (1 if position < extra else 0)


def rate_share(rate: Any, index: int, count: int, key: tuple) -> Any:
    """A Rate whose count is this worker's unit share (same window length)."""
    return Rate(unit_share(int(rate.count), index, count, key), rate.seconds)


def _rate_parts(value: Any) -> tuple[int, float] | None:
    if value is None:
        return None
    if hasattr(value, "count") and hasattr(value, "seconds"):
        return int(value.count), float(value.seconds)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), float(value[1])
    return None


class ConfigView:
    """See the module docstring. ``leases`` is a daemon/leases.LeaseBook or None."""

    reuse_port = True

    def __init__(self, config: Any, *, index: int, count: int, control_path: str,
                 leases: Any = None) -> None:
        self.config = config
        self.index = index
        self.count = count
        self.control_path = control_path
        self.leases = leases

    def __getattr__(self, name: str) -> Any:
        return getattr(self.config, name)

    # -- the worker's own resources --------------------------------------------------------
    def partition(self) -> str:
        return os.path.join(str(self.config.get("spoolbase")), f"w{self.index}")

    def listens(self, listener: str = "esmtp_listener") -> list[Any]:
        specs = self.config.listens(listener)
        kind = listener.lower()
        if kind == "control_listener":
            template = specs[0] if specs else None
            name = self.control_path
            if template is None:
                from ecelerity.config.resolver import ListenSpec
                return [ListenSpec(name, "unix", "", None, name, True, None)]
            return [replace(template, name=name, kind="unix", host="", port=None, path=name,
                            enabled=True)]
        if kind == "esmtp_listener" and self.index != 0:
            return [spec for spec in specs if spec.kind != "unix"]
        return specs

    # -- lookups ---------------------------------------------------------------------------
    def get(self, option: str, *, binding: str | None = None, domain: str | None = None) -> Any:
        value = self.config.get(option, binding=binding, domain=domain)
        name = option.lower()
        if name == "spoolbase":
            return self.partition()
        if name == "max_outbound_connections":
            return self._connections(value, binding, domain)
        if name == "server_max_outbound_connections":
            return self._limit(name, value, ("smoc", binding))
        return value

    def get_host(self, option: str, *, host: str, binding: str | None = None,
                 domain: str | None = None) -> Any:
        value = self.config.get_host(option, host=host, binding=binding, domain=domain)
        if option.lower() == "max_outbound_connections" and isinstance(value, int) and value > 0:
            return self._limit("moc_host", value, ("moc_host", host, binding, domain))
        return value

    def get_inbound(self, option: str, **scope: Any) -> Any:
        value = self.config.get_inbound(option, **scope)
        name = option.lower()
        if name in INBOUND_COUNTS and isinstance(value, int) and value > 0:
            key = (name, scope.get("listen"), scope.get("peer_ip") if name == "peer_sessions" else None)
            return max(1, unit_share(value, self.index, self.count, key))
        if name in INBOUND_RATES:
            parts = _rate_parts(value)
            if parts is None or parts[0] <= 0:
                return value
            count, seconds = parts
            if count >= self.count:
                return Rate(unit_share(count, self.index, self.count, (name,)), int(seconds))
            return Rate(1, max(1, int(round(seconds * self.count / count))))
        return value

    def throttle_scope(self, option: str, *, binding: str | None = None, domain: str | None = None,
                       host: str | None = None) -> Any:
        found = self.config.throttle_scope(option, binding=binding, domain=domain, host=host)
        if found is None or option.lower() not in OUTBOUND_THROTTLES or found[1] is None:
            return found
        scope_id, rate = found
        if int(rate.count) >= self.count:
            return scope_id, rate_share(rate, self.index, self.count, (option.lower(), scope_id))
        return found  # held whole by the lease holder (see _connections)

    # -- shares ----------------------------------------------------------------------------
    def _limit(self, name: str, value: Any, key: tuple) -> Any:
        if not isinstance(value, int) or value <= 0 or self.count <= 1:
            return value
        if value >= self.count:
            return unit_share(value, self.index, self.count, key)
        if self.leases is None:
            return unit_share(value, self.index, self.count, key)
        return value if self.leases.holds(key) else 0

    def _small_scopes(self, binding: str | None, domain: str | None, value: Any) -> list[tuple]:
        """Lease keys a queue needs: its scopes whose limit is smaller than N."""
        keys = []
        if isinstance(value, int) and 0 < value < self.count:
            keys.append(("moc", binding, domain))
        for scope_binding in (binding, None):
            limit = self.config.get("server_max_outbound_connections", binding=scope_binding)
            if isinstance(limit, int) and 0 < limit < self.count:
                keys.append(("smoc", scope_binding))
        for option in OUTBOUND_THROTTLES:
            found = self.config.throttle_scope(option, binding=binding, domain=domain)
            if found is not None and found[1] is not None and 0 < int(found[1].count) < self.count:
                keys.append((option, found[0]))
        return keys

    def _connections(self, value: Any, binding: str | None, domain: str | None) -> Any:
        if not isinstance(value, int) or value <= 0 or self.count <= 1:
            return value
        small = self._small_scopes(binding, domain, value) if self.leases is not None else []
        if small:
            holds = self.leases.acquire(small, queue=(binding, domain))
            if not holds:
                return 0
            if value < self.count:
                return value
        return unit_share(value, self.index, self.count, ("moc", binding, domain))


def small_inbound_limits(config: Any, count: int) -> list[str]:
    """Inbound limits below ``count`` that workers cannot split exactly (for a warning)."""
    found = []
    for option in INBOUND_COUNTS:
        for spec in config.listens("esmtp_listener"):
            value = config.get_inbound(option, listen=spec.name)
            if isinstance(value, int) and 0 < value < count:
                found.append(f"{option} = {value} on {spec.name}")
    return found
