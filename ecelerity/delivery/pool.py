"""Idle outbound connections kept for reuse, per (binding, domain, ip, port).

The engine puts a connection back after a delivery round (unless it reached
``max_deliveries_per_connection``) and takes it on the next round for the same key.
Each parked connection gets a timer of ``idle_timeout`` seconds; when it fires the
connection is sent QUIT and closed. Bounded: at most ``max_idle_per_key`` connections
per key (extras are closed). Never blocks the hub (QUIT runs in its own greenlet).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Hashable

import gevent

from .client import SmtpClient


class IdlePool:
    def __init__(self, max_idle_per_key: int = 4) -> None:
        self.max_idle_per_key = max_idle_per_key
        self._idle: dict[Hashable, list[tuple[SmtpClient, gevent.Greenlet]]] = defaultdict(list)

    def take(self, key: Hashable) -> SmtpClient | None:
        """An idle connection for ``key`` (most recently used first), or None."""
        parked = self._idle.get(key)
        while parked:
            client, timer = parked.pop()
            timer.kill(block=False)
            if client.connected:
                return client
        return None

    def put(self, key: Hashable, client: SmtpClient, idle_timeout: float) -> None:
        parked = self._idle[key]
        if idle_timeout <= 0 or len(parked) >= self.max_idle_per_key:
            gevent.spawn(client.quit)
            return
        timer = gevent.spawn_later(idle_timeout, self._expire, key, client)
        parked.append((client, timer))

    def _expire(self, key: Hashable, client: SmtpClient) -> None:
        parked = self._idle.get(key, [])
        for index, (parked_client, _) in enumerate(parked):
            if parked_client is client:
                del parked[index]
                break
        if not parked:
            self._idle.pop(key, None)
        client.quit()

    def idle_count(self) -> int:
        return sum(len(parked) for parked in self._idle.values())

    def close_all(self) -> None:
        for parked in self._idle.values():
            for client, timer in parked:
                timer.kill(block=False)
                client.close()
        self._idle.clear()
