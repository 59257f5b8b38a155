"""Leases for limits smaller than the number of workers: one worker at a time holds the scope.

Who calls it: daemon/shares.ConfigView, when a queue's connection limit or outbound
throttle is V with 0 < V < N workers (whole units cannot be dealt to every worker).
A lease is an exclusive ``flock`` on ``<directory>/<hash of the scope>.lease``: the
kernel guarantees one holder machine-wide, and a worker that dies (even kill -9) drops
its leases at once.

Life of a lease (``LeaseBook``):
- ``acquire(keys, queue)`` takes every lease a queue needs, all or none (never a part,
  so two workers cannot deadlock holding one each); the queue may dispatch only when
  it returns True. A worker that fails touches ``<lease>.want`` (someone waits).
- The holder keeps the lease while it has traffic for the scope. After holding it for
  ``term`` seconds while another worker waits, it stops dispatching (``holds`` False),
  so the lease comes free soon: fairness under continuous load on both workers.
- ``tick()`` (every ``period`` seconds, from the book's greenlet) releases a lease once
  no queue using it has a delivery in flight and the scope has been quiet for its
  ``hold_after`` (idle_timeout of its queues, plus the throttle window for a throttle):
  by then the holder's idle pooled connections have closed and its throttle window has
  emptied, so the next holder cannot exceed the limit. It also wakes the queue manager
  while this worker waits for a lease (the manager does not poll limits by itself).

Never blocks: every flock is non-blocking. Reads the queue manager's queues
(``in_flight(binding, domain)``) read-only; never changes them.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent

DEFAULT_TERM = 10.0
DEFAULT_PERIOD = 0.25


@dataclass
class Lease:
    fd: int
    path: str
    since: float
    last_use: float
    queues: set[tuple[Any, Any]] = field(default_factory=set)
    draining: bool = False


def lease_name(key: tuple) -> str:
    return hashlib.blake2b(repr(key).encode("utf-8", "replace"), digest_size=12).hexdigest()


class LeaseBook:
    """See the module docstring; ``manager`` returns the QueueManager (or None)."""

    def __init__(self, directory: str, *, manager: Callable[[], Any],
                 config: Callable[[], Any], term: float = DEFAULT_TERM,
                 period: float = DEFAULT_PERIOD, clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self._manager = manager
        self._config = config
        self.term = term
        self.period = period
        self._clock = clock
        self.held: dict[tuple, Lease] = {}
        self.waiting_since: float | None = None
        self.acquired = 0
        self.refused = 0
        self._greenlet: gevent.Greenlet | None = None

    # -- taking ----------------------------------------------------------------------------
    def holds(self, key: tuple) -> bool:
        lease = self.held.get(key)
        return lease is not None and not lease.draining

    def acquire(self, keys: list[tuple], *, queue: tuple[Any, Any]) -> bool:
        now = self._clock()
        taken: list[tuple] = []
        for key in keys:
            lease = self.held.get(key)
            if lease is not None:
                if lease.draining or (now - lease.since > self.term and self._wanted(lease)):
                    lease.draining = True
                    self._undo(taken)
                    return False
                continue
            lease = self._try(key, now)
            if lease is None:
                self._undo(taken)
                self.refused += 1
                if self.waiting_since is None:
                    self.waiting_since = now
                return False
            self.held[key] = lease
            taken.append(key)
        for key in keys:
            lease = self.held[key]
            lease.last_use = now
            lease.queues.add(queue)
        self.waiting_since = None
        return True

    def _try(self, key: tuple, now: float) -> Lease | None:
        path = os.path.join(self.directory, lease_name(key) + ".lease")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self._want(path)
            return None
        self.acquired += 1
        return Lease(fd, path, now, now)

    def _want(self, path: str) -> None:
        try:
            with open(path + ".want", "a"):
                pass
            os.utime(path + ".want")
        except OSError:
            pass

    def _wanted(self, lease: Lease) -> bool:
        try:
            return os.stat(lease.path + ".want").st_mtime > time.time() - (self._clock() - lease.since)
        except OSError:
            return False

    def _undo(self, keys: list[tuple]) -> None:
        for key in keys:
            self._release(key)

    def _release(self, key: tuple) -> None:
        lease = self.held.pop(key, None)
        if lease is not None:
            os.close(lease.fd)  # closing drops the flock

    # -- giving back -----------------------------------------------------------------------
    def tick(self) -> None:
        now = self._clock()
        manager = self._manager()
        for key, lease in list(self.held.items()):
            if self._busy(manager, lease):
                lease.last_use = max(lease.last_use, now)
                continue
            if now - lease.last_use >= self._hold_after(key, lease):
                self._release(key)
        if self.waiting_since is not None and manager is not None:
            manager.wake()

    def _busy(self, manager: Any, lease: Lease) -> bool:
        return any(manager.in_flight(binding or "default", domain) > 0
                   for binding, domain in lease.queues)

    def _hold_after(self, key: tuple, lease: Lease) -> float:
        cfg = self._config()
        quiet = 0.0
        for binding, domain in lease.queues:
            try:
                quiet = max(quiet, float(cfg.get("idle_timeout", binding=binding, domain=domain) or 0))
            except (KeyError, TypeError, ValueError):
                continue
        if key and str(key[0]).startswith("outbound_throttle") and len(key) > 1:
            for binding, domain in lease.queues:
                found = cfg.throttle_scope(key[0], binding=binding, domain=domain)
                if found is not None and found[1] is not None:
                    quiet = max(quiet, float(found[1].seconds))
        return quiet + 1.0

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(self.period)
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the next tick tries again
                pass

    def close(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
        for key in list(self.held):
            self._release(key)
