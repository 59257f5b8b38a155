"""What one delivery attempt of one message came to: DeliveryResult and ``outcome_of``.

Who uses it: delivery/engine.py builds one DeliveryResult per message of a hand-off
(re-exported there); queue/results.py applies them (spool, retry, DSN), log/ writes
them to the mainlog, bounce/dsn.py quotes them. Plain data: no I/O, never decides
what happens next (the queue does).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliveryResult:
    message_id: str
    outcome: str  # "delivered" | "transient" | "permanent"
    code: int
    enhanced: str
    text: str
    stage: int
    remote_ip: str
    bytes_sent: int
    conn_id: str

    @property
    def response(self) -> str:
        """``code enhanced text`` as Momentum logs it."""
        return " ".join(part for part in (str(self.code), self.enhanced, self.text) if part)


def outcome_of(code: int) -> str:
    if 200 <= code < 300:
        return "delivered"
    return "permanent" if code >= 500 else "transient"
