"""ecelerity/stats.py: counters per scope, rates since reset, the queue-manager observer."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.stats import Stats, for_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def message(domain: str, binding: str | None = None):
    return SimpleNamespace(domain=domain, binding=binding, envelope=SimpleNamespace(binding=None))


def test_observer_counts_per_binding_and_domain_and_rates():
    clock = Clock()
    stats = Stats(clock)
    stats.received([message("a.test"), message("B.test", "b1")])
    for outcome, msg in [("delivered", message("a.test")), ("transient", message("b.test", "b1")),
                         ("failed", message("b.test", "b1")), ("bogus", message("a.test"))]:
        stats.observe(outcome, msg, "250 ok")
    stats.rejected(2)
    assert stats.total.as_dict() == {"received": 2, "delivered": 1, "failed": 1, "transient": 1,
                                     "rejected": 2}
    assert stats.binding("b1").as_dict()["failed"] == 1 and stats.binding("default").get("delivered") == 1
    assert stats.domain("B.TEST").get("received") == 1
    assert stats.rate("delivered") == 0.0  # less than a second elapsed
    clock.now += 4
    assert stats.rate("received") == 0.5
    stats.reset()
    clock.now += 6
    assert stats.total.get("received") == 0 and stats.uptime() == 10 and stats.since_reset() == 6


def test_for_app_creates_once_and_attaches_to_the_queue_manager_once():
    manager = SimpleNamespace(observers=[])
    app = SimpleNamespace(queue_manager=manager)
    first = for_app(app)
    assert for_app(app) is first and manager.observers == [first.observe]
    manager.observers[0]("delivered", message("x.test"), "250 ok")
    assert first.domain("x.test").get("delivered") == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["delivered", "transient", "failed"]),
                          st.sampled_from(["a.test", "b.test"]), st.sampled_from([None, "b1"]))))
def test_totals_are_the_sum_of_the_per_domain_counts(events):
    stats = Stats(Clock())
    for outcome, domain, binding in events:
        stats.observe(outcome, message(domain, binding), "")
    for kind in ("delivered", "transient", "failed"):
        expected = sum(1 for e in events if e[0] == kind)
        assert stats.total.get(kind) == expected
        assert sum(stats.domain(d).get(kind) for d in ("a.test", "b.test")) == expected
        assert sum(t.get(kind) for t in stats.by_binding.values()) == expected
