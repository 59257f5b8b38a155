"""msys.gauge_cache.*, msys.audit_series.* and msys.audit.* with a controlled clock."""
from __future__ import annotations

from ecelerity.policy.lua.lib_series import store_of

from .conftest import values


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gauge_cache_counts_and_expires_idle_keys(rt, run):
    rt.clock = clock = Clock()
    assert values(run("""
        msys.gauge_cache.define("conns", 30)
        msys.gauge_cache.inc("conns", "1.2.3.4")
        msys.gauge_cache.inc("conns", "1.2.3.4", 4)
        return msys.gauge_cache.dec("conns", "1.2.3.4"), msys.gauge_cache.get("conns", "x")""")) == (4, 0)
    clock.now += 29
    assert values(run('return msys.gauge_cache.get("conns", "1.2.3.4")')) == (4,)
    clock.now += 31
    assert values(run('return msys.gauge_cache.get("conns", "1.2.3.4")')) == (0,)
    assert values(run("""msys.gauge_cache.inc("conns", "k") msys.gauge_cache.remove_item("conns", "k")
                         return msys.gauge_cache.get("conns", "k")""")) == (0,)
    assert "define first" in run('msys.gauge_cache.inc("undefined", "k")').error


def test_audit_series_windows_slide(rt, run):
    rt.clock = clock = Clock()
    values(run('msys.audit_series.define("rcpts", 10, 3) msys.audit_series.add("rcpts", "k", 2)'))
    clock.now += 10
    assert values(run('return msys.audit_series.add("rcpts", "k", 5)')) == (7,)
    assert values(run('return msys.audit_series.count("rcpts", "k", 1)')) == (5,)
    clock.now += 20  # the first window has left the 3-window ring
    assert values(run('return msys.audit_series.count("rcpts", "k")')) == (5,)
    clock.now += 10
    assert values(run('return msys.audit_series.count("rcpts", "k")')) == (0,)
    values(run('msys.audit_series.add("rcpts", "k") msys.audit_series.remove_item("rcpts", "k")'))
    assert values(run('return msys.audit_series.count("rcpts", "k")')) == (0,)
    assert "window_seconds" in run('msys.audit_series.define("bad", 0)').error


def test_audit_counts_by_cidr_and_time(rt, run):
    rt.clock = clock = Clock()
    store = store_of(rt)
    for ip in ("192.0.2.1", "192.0.2.9", "198.51.100.1"):
        store.record("connections", ip, clock.now)
    clock.now += 120
    store.record("connections", "192.0.2.1", clock.now)
    store.record("rejections", "192.0.2.1", clock.now)
    got = values(run("""
        return msys.audit.connections("192.0.2.0/24"), msys.audit.connections("192.0.2.0/24", 60),
               msys.audit.connections("198.51.100.1"), msys.audit.rejections("192.0.2.1/32"),
               msys.audit.receptions("0.0.0.0/0")"""))
    assert got == (3, 1, 1, 1, 0)
    assert "not available" in run('msys.audit.inbound_session_count("0.0.0.0/0")').error
    rt.sessions_by_ip = lambda: {"192.0.2.1": 2, "10.0.0.1": 1}
    assert values(run('return msys.audit.inbound_session_count("192.0.2.0/24")')) == (2,)
