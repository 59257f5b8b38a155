"""ecelerity/delivery/result.py: reply codes to outcomes, and the response text logged."""
from __future__ import annotations

from ecelerity.delivery import engine
from ecelerity.delivery.result import DeliveryResult, outcome_of


def test_reply_codes_map_to_outcomes():
    assert [outcome_of(code) for code in (250, 251, 421, 451, 499, 500, 554)] == [
        "delivered", "delivered", "transient", "transient", "transient", "permanent", "permanent"]


def test_response_joins_what_the_remote_said_without_empty_parts():
    full = DeliveryResult("id", "permanent", 550, "5.1.1", "no such user", 4, "192.0.2.1", 0, "c")
    bare = DeliveryResult("id", "transient", 421, "", "closing", 0, "", 0, "")
    assert (full.response, bare.response) == ("550 5.1.1 no such user", "421 closing")
    assert engine.DeliveryResult is DeliveryResult and engine.outcome_of is outcome_of
