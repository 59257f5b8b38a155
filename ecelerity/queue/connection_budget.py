"""``server_max_outbound_connections`` counted the way the network sees it: busy + idle.

Who calls it: queue/scheduler.py's dispatch loop, before it starts a hand-off. A
hand-off holds at most one connection; the delivery engine also keeps idle connections
parked for reuse (delivery/pool.py), and those are open sockets too. ``make_room``
says whether one more hand-off fits under the server-wide and per-binding limits:
it does at once when the queue has an idle connection of its own to reuse (no new
socket); otherwise, when busy + idle connections would exceed a limit, it takes the
oldest idle connections of OTHER queues out of the engine's pool (the hand-off QUITs
them, ``engine.retire``, before it connects) and says no when not enough can be
taken. Engines without a pool (test fakes) have nothing idle: only the in-flight
counts apply (the caller checks those). Never blocks (what it took but cannot use is closed in a background greenlet).
"""
from __future__ import annotations

from typing import Any

import gevent

NO_ROOM = None


def make_room(engine: Any, binding: str, domain: str, *, started: int,
              total: tuple[int, int], per_binding: tuple[int, int]) -> list[Any] | None:
    """The idle connections to retire so one more hand-off for (binding, domain) fits
    (often none), or None when it does not fit.

    ``started``: hand-offs already started for this queue in the current pass (they may
    be about to take its idle connections); ``total`` and ``per_binding``: (hand-offs in
    flight, limit)."""
    idle_connections = getattr(engine, "idle_connections", None)
    if idle_connections is None:
        return []
    if idle_connections(binding=binding, domain=domain) > started:
        return []   # reuses an idle connection: no new socket
    retired: list[Any] = []
    for in_flight, limit, scope in ((total[0], total[1], None),
                                    (per_binding[0], per_binding[1], binding)):
        excess = in_flight + idle_connections(binding=scope) + 1 - limit
        if excess > 0:
            taken = engine.take_idle(excess, binding=scope, keep=(binding, domain))
            retired += taken
            if len(taken) < excess:
                gevent.spawn(engine.retire, retired)   # no start: close what was taken anyway
                return NO_ROOM
    return retired
