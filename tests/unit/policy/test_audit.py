"""policy/audit.py: the windows of a Series (the fast path that skips expiry while a slot
is current must agree with count()), and record_once counting once per session/message."""
from __future__ import annotations

from ecelerity.policy.audit import Series, SeriesStore
from ecelerity.policy.vctx import ValidationContext


def test_add_returns_the_live_total_and_old_slots_expire():
    series = Series(window=10, windows=3)
    assert series.add("k", 1, 0.0) == 1
    assert series.add("k", 2, 5.0) == 3          # same slot
    assert series.add("k", 1, 12.0) == 4         # second slot
    assert series.add("k", 1, 25.0) == 5         # third slot
    assert series.add("k", 1, 31.0) == 3         # slot 0 expired when slot 3 started
    assert series.count("k", 31.0) == 3 and series.count("k", 31.0, windows=1) == 1
    assert sorted(series.counts["k"]) == [1, 2, 3]


def test_bump_after_time_went_back_does_not_count_expired_slots():
    series = Series(window=10, windows=2)
    series.add("k", 1, 100.0)                    # slot 10
    series.add("k", 1, 5.0)                      # an old clock reading: slot 0
    assert series.add("k", 1, 101.0) == 2        # slot 0 is not live at slot 10
    assert series.count("k", 101.0) == 2


def test_record_once_counts_once_per_session_and_per_message():
    store = SeriesStore()
    vctx = ValidationContext(conn={"peer_ip": "192.0.2.1"})
    assert store.record_once("connections", vctx, 1.0)
    assert not store.record_once("connections", vctx, 1.0)
    assert store.record_once("receptions", vctx, 1.0, "A")
    assert not store.record_once("receptions", vctx, 2.0, "A")
    assert store.record_once("receptions", vctx, 2.0, "B")
    store.record("rejections", "192.0.2.1", 3.0)
    store.record("rejections", "", 3.0)          # no peer: nothing to count
    counts = {name: series.count("192.0.2.1", 3.0) for name, series in store.series.items()}
    assert counts == {"#connections": 1, "#receptions": 2, "#rejections": 1}
    assert store.series["#receptions"].count_block("192.0.2.0/24", 3.0) == 2
    nobody = ValidationContext()
    assert store.record_once("connections", nobody, 1.0)  # marked, but no IP to count
    assert store.series["#connections"].counts.keys() == {"192.0.2.1"}
