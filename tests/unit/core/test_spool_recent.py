"""ecelerity/core/spool_recent.py and its use by Spool.read_body: just-stored bodies
come from memory, bounded; every read returns exactly the stored bytes."""
from __future__ import annotations

import os

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.core.spool_recent import RecentBodies


def test_a_body_stays_until_its_last_message_ends():
    recent = RecentBodies()
    recent.add((1, 10), b"abc", users=2)
    recent.release((1, 10))
    assert recent.get((1, 10)) == b"abc"
    recent.release((1, 10))
    assert recent.get((1, 10)) is None and recent.total == 0


def test_total_and_per_body_bounds_drop_the_oldest_first():
    recent = RecentBodies(max_total=10, max_body=6)
    recent.add((1, 0), b"x" * 7, users=1)           # over the per-body bound: not kept
    assert recent.get((1, 0)) is None
    recent.add((1, 1), b"a" * 5, users=1)
    recent.add((1, 2), b"b" * 5, users=1)
    recent.add((1, 3), b"c" * 5, users=1)           # the oldest goes to make room
    assert recent.get((1, 1)) is None
    assert (recent.get((1, 2)), recent.get((1, 3))) == (b"b" * 5, b"c" * 5)
    assert recent.total == 10


def test_read_body_is_exact_from_memory_and_from_disk_after_eviction(tmp_path):
    spool = Spool(str(tmp_path / "s"))
    try:
        spool._recent = RecentBodies(max_total=3000, max_body=2048)
        bodies = [os.urandom(2000), os.urandom(2000)]
        stored = [spool.store(Envelope("s@x", [Recipient("a@y"), Recipient("b@y")]), body)
                  for body in bodies]
        first, second = stored[0].messages, stored[1].messages
        assert spool._recent.get((first[0].segment, first[0].data_offset)) is None  # evicted
        assert spool._recent.get((second[0].segment, second[0].data_offset)) == bodies[1]
        assert [spool.read_body(m) for m in first + second] == [bodies[0]] * 2 + [bodies[1]] * 2
        spool.remove(second[0])
        assert spool.read_body(second[1]) == bodies[1]
        spool.remove(second[1])
        assert len(spool._recent) == 0
    finally:
        spool.close()
