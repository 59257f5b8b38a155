"""ecelerity/log/compat_exim.py: Exim ids, line shapes, the Completed line (eximstats
itself reads a daemon's output in tests/scenarios/test_logs_compat_analysers.py)."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.msgid import format_id
from ecelerity.log.compat_exim import EximLogger, exim_id

EXIM_ID = re.compile(r"^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$")
ids = st.tuples(st.integers(0, 0xFFFFFFFF), st.integers(0, 99999), st.integers(0, 0xFFFF))


@settings(max_examples=300, deadline=None)
@given(ids, ids)
def test_exim_ids_have_exims_shape_and_are_one_to_one(first, second):
    one, two = exim_id(format_id(*first)), exim_id(format_id(*second))
    assert EXIM_ID.match(one) and EXIM_ID.match(two)
    assert (one == two) == (first == second)


def _facts(event, rcpt, **more):
    base = {"event": event, "ts": 1700000000.0, "batch_id": "10/00-23639-037120B6",
            "message_id": f"id-{rcpt}", "rcpt": rcpt, "sender": "a@c.test", "helo": "h",
            "source_ip": "127.0.0.1", "protocol": "esmtp", "size": 10, "remote_ip": "192.0.2.1"}
    base.update(more)
    return base


def test_lines_and_completed_after_the_last_recipient(tmp_path):
    logger = EximLogger(str(tmp_path / "exim"))
    got = []
    for facts in (_facts("reception", "x@a"), _facts("reception", "y@a"),
                  _facts("delivery", "x@a", response="250 ok"),
                  _facts("transient_failure", "y@a", response="451 later\nInjected: line"),
                  _facts("permanent_failure", "y@a", response="550 no")):
        got.extend(logger.lines(facts))
    stamp_id = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d " + exim_id("10/00-23639-037120B6")
    assert len(got) == 5 and all(re.match(stamp_id, line) for line in got)
    assert got[0].endswith("<= a@c.test H=(h) [127.0.0.1] P=esmtp S=10 id=10/00-23639-037120B6")
    assert ' => x@a ' in got[1] and got[1].endswith('C="250 ok"')
    assert " == y@a " in got[2] and "\n" not in got[2] and got[2].endswith("451 later Injected: line")
    assert " ** y@a " in got[3] and got[4].endswith(" Completed")
