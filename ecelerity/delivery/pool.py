"""Idle outbound connections kept for reuse, per (binding, domain, ip, port, gateway).

The engine puts a connection back after a delivery round (unless it reached
``max_deliveries_per_connection``) and takes one on the next round for the same
(binding, domain): ``take_any`` returns an idle connection to ANY of that round's
targets before the engine opens a new one, and ``quit_group`` closes the idle ones
left to addresses that are no longer targets (of the same gateway: the one a policy
chose for the messages, '' for the domain's own route, so mail sent to a per-message
gateway never closes or reuses the domain's connections). So the connections open to a domain
(busy + idle, as the remote server counts them) never exceed the hand-offs the queue
allowed: ``max_outbound_connections`` holds at the receiver, not just in our books.
Each parked connection gets a timer of ``idle_timeout`` seconds; when it fires the
connection is sent QUIT and closed. Bounded: at most ``max_idle_per_key`` connections
per key, or the ``limit`` the caller passes (the engine passes the queue's
``max_outbound_connections``: every connection the queue may keep busy may also wait
idle, so a full set of hand-offs finds its connections again; extras get QUIT at once, in the caller's greenlet, so a connection is closed
before the hand-off that used it ends). ``take_oldest`` lets the queue make room
under ``server_max_outbound_connections``, which counts idle connections too: it
takes the longest-idle connections out of the pool (their idle timers cancelled) and
hands them to the caller, who QUITs them (engine.retire) before opening a new one.
Never blocks the hub.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Hashable, Iterable

import gevent

from .client import SmtpClient

PoolKey = tuple[str, str, str, int, str]   # (binding, domain, ip, port, gateway)


class _IdleTimer:
    """A bare loop timer (no greenlet per parked connection, as spawn_later would cost);
    when it fires, ``function(*args)`` runs in a new greenlet (it may block: QUIT)."""

    __slots__ = ("_watcher",)

    def __init__(self, seconds: float, function, *args) -> None:
        self._watcher = gevent.get_hub().loop.timer(seconds)
        self._watcher.start(self._fire, function, args)

    def _fire(self, function, args) -> None:
        self._watcher.close()
        gevent.spawn(function, *args)

    def kill(self, block: bool = False) -> None:
        self._watcher.close()


class IdlePool:
    def __init__(self, max_idle_per_key: int = 4) -> None:
        self.max_idle_per_key = max_idle_per_key
        # key -> [(client, idle timer, parked at (monotonic))], most recently parked last
        self._idle: dict[Hashable, list[tuple[SmtpClient, _IdleTimer, float]]] = defaultdict(list)

    def take(self, key: Hashable) -> SmtpClient | None:
        """An idle connection for ``key`` (most recently used first), or None."""
        parked = self._idle.get(key)
        while parked:
            client, timer, _ = parked.pop()
            timer.kill(block=False)
            if client.connected:
                if not parked:
                    self._idle.pop(key, None)
                return client
        self._idle.pop(key, None)
        return None

    def take_any(self, keys: Iterable[Hashable]) -> tuple[Hashable, SmtpClient] | None:
        """The first of ``keys`` (in order) with an idle connection, and that connection."""
        for key in keys:
            if key in self._idle:
                client = self.take(key)
                if client is not None:
                    return key, client
        return None

    def quit_group(self, binding: str, domain: str, gateway: str = "") -> int:
        """QUIT and close every idle connection of (binding, domain) kept for ``gateway``
        ('' = the domain's own route); how many there were."""
        keys = [key for key in self._idle
                if isinstance(key, tuple) and key[:2] == (binding, domain)
                and (key[4] if len(key) > 4 else "") == gateway]
        closed = 0
        for key in keys:
            for client, timer, _ in self._idle.pop(key, []):
                timer.kill(block=False)
                client.quit()
                closed += 1
        return closed

    def put(self, key: Hashable, client: SmtpClient, idle_timeout: float, limit: int = 0) -> None:
        """Park ``client``; at most max(max_idle_per_key, ``limit``) per key."""
        parked = self._idle[key]
        if idle_timeout <= 0 or len(parked) >= max(self.max_idle_per_key, limit):
            if not parked:
                self._idle.pop(key, None)
            client.quit()
            return
        timer = _IdleTimer(idle_timeout, self._expire, key, client)
        parked.append((client, timer, time.monotonic()))

    def _expire(self, key: Hashable, client: SmtpClient) -> None:
        parked = self._idle.get(key, [])
        for index, (parked_client, _, _) in enumerate(parked):
            if parked_client is client:
                del parked[index]
                break
        if not parked:
            self._idle.pop(key, None)
        client.quit()

    def idle_count(self, binding: str | None = None, domain: str | None = None) -> int:
        """Idle connections, all or of one binding (and domain)."""
        if binding is None and domain is None:
            return sum(len(parked) for parked in self._idle.values())
        return sum(len(parked) for key, parked in self._idle.items() if _matches(key, binding, domain))

    def take_oldest(self, count: int, *, binding: str | None = None,
                    keep: Hashable | None = None) -> list[SmtpClient]:
        """Take up to ``count`` of the longest-idle connections (of ``binding`` when
        given, never of the (binding, domain) ``keep``) out of the pool; the caller
        closes them."""
        candidates = [(parked_at, key, client) for key, parked in self._idle.items()
                      if _matches(key, binding, None) and not (keep is not None and key[:2] == keep)
                      for client, _, parked_at in parked]
        candidates = sorted(candidates, key=lambda item: item[0])[:max(0, count)]
        for _, key, client in candidates:
            parked = self._idle.get(key, [])
            for index, (parked_client, timer, _) in enumerate(parked):
                if parked_client is client:
                    timer.kill(block=False)
                    del parked[index]
                    break
            if not parked:
                self._idle.pop(key, None)
        return [client for _, _, client in candidates]

    def close_all(self) -> None:
        for parked in self._idle.values():
            for client, timer, _ in parked:
                timer.kill(block=False)
                client.close()
        self._idle.clear()


def _matches(key: Hashable, binding: str | None, domain: str | None) -> bool:
    if not isinstance(key, tuple):
        return binding is None and domain is None
    return (binding is None or key[0] == binding) and (domain is None or key[1] == domain)
