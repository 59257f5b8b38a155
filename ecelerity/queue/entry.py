"""The queue manager's per-message record and the small vocabulary shared by its files.

Who uses it: queue/manager.py (admission, primitives), queue/scheduler.py (dispatch), queue/results.py
(applying delivery results), queue/admin.py. Holds a reference to the spool's
SpooledMessage, never a body; never does I/O.
"""
from __future__ import annotations

from typing import Any, Callable

from ecelerity.delivery.routes import message_gateway

ACTIVE, DELAYED, IN_FLIGHT, FINISHING = "active", "delayed", "in_flight", "finishing"
NO_RESULT = (451, "4.3.0", "[internal] delivery returned no result for this message")
Reason = tuple[int, str, str]
Observer = Callable[[str, Any, str], None]   # (outcome, message, "code enhanced text")


class QueuedMessage:
    """Where one message is and when it expires (slotted: one per queued message)."""

    __slots__ = ("message", "key", "expires_at", "state", "last_chance")

    def __init__(self, message: Any, key: tuple[str, str], expires_at: float,
                 state: str = ACTIVE, last_chance: bool = False) -> None:
        self.message = message          # core.spool_records.SpooledMessage
        self.key = key                  # (binding, routing domain)
        self.expires_at = expires_at
        self.state = state
        self.last_chance = last_chance  # already expired when loaded: one attempt, then fail

    def __repr__(self) -> str:
        return (f"QueuedMessage({self.message.id!r}, key={self.key!r}, state={self.state!r}, "
                f"expires_at={self.expires_at!r})")


def reason_text(reason: Reason) -> str:
    return f"{reason[0]} {reason[1]} {reason[2]}"


def routing_domain(message: Any) -> str:
    """The name of the queue a message waits in, whose options, limits, throttles,
    routes and MX apply: the gateway a policy chose for it (Sieve
    ``ec_set_routing_gateway``, message context ``routing_gateway[:<rcpt>]``, read by
    delivery/routes.py ``message_gateway``; Momentum queues such mail "to the domain
    specified by the gateway"), else the context's ``routing_domain`` (Lua
    ``msg:routing_domain``), else the recipient's domain. Lower case."""
    gateway = message_gateway(message)
    if gateway is not None:
        return gateway.lower()
    chosen = message.envelope.mess_context.get("routing_domain")
    return (chosen or message.domain).strip().lower()
