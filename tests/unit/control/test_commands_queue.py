"""ecelerity/control/commands_queue.py: summary, mailq, active, delayed, binding summary,
showqueue against a real in-process App holding real spooled, queued mail."""
from __future__ import annotations

import json

import pytest

from tests.unit.control._console_app import queue_mail, run, running_app, stop

CONFIG = 'Binding "b1" { }\nBinding_Group "g1" { Binding "b2" { } }\n'


@pytest.fixture
def app(tmp_path):
    app = running_app(tmp_path, CONFIG)
    queue_mail(app, [f"u{i}@one.test" for i in range(3)])
    queue_mail(app, [f"v{i}@two.test" for i in range(5)], delay=600)
    queue_mail(app, ["w@one.test", "x@two.test"], binding="b1")
    queue_mail(app, ["y@three.test"], binding="b2", delay=600)
    yield app
    stop(app)


def body(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def as_json(app, line):
    return json.loads("\n".join(body(run(app, line + " --json"))))


def test_summary_figures_match_what_was_queued(app):
    data = as_json(app, "summary")
    assert (data["active_queue_size"], data["delayed_queue_size"], data["total_queue_size"]) == (5, 6, 11)
    assert (data["received"], data["delivered"], data["failed"]) == (11, 0, 0)
    assert data["active_domains"] == 2
    text = body(run(app, "summary"))
    assert text[0] == "Summary Statistics"
    assert "\tActive Queue Size:       5" in text
    assert "\tReceived Messages:      11" in text
    assert text[-1].startswith("\tUptime: ")


def test_summary_reset_zeroes_counters_but_not_queues(app):
    assert body(run(app, "summary reset")) == ["summary statistics reset"]
    data = as_json(app, "summary")
    assert data["received"] == 0 and data["total_queue_size"] == 11


def test_mailq_table_and_filters(app):
    lines = body(run(app, "mailq"))
    assert lines[0].split() == ["Group/Binding", "Domain", "AQ", "DQ"]
    rows = {tuple(line.split()) for line in lines[2:]}
    assert rows == {("default/default", "one.test", "3", "0"), ("default/default", "two.test", "0", "5"),
                    ("default/b1", "one.test", "1", "0"), ("default/b1", "two.test", "1", "0"),
                    ("g1/b2", "three.test", "0", "1")}
    only = as_json(app, "mailq -d TWO.test --binding default")["QueueSummary"]
    assert [(r["binding"], r["domain"], r["aq"], r["dq"]) for r in only] == [("default", "two.test", 0, 5)]
    assert len(as_json(app, "mailq --limit 2")["QueueSummary"]) == 2
    assert run(app, "mailq --limit").status == 400
    assert run(app, "mailq -l x").status == 400


def test_active_and_delayed_thresholds(app):
    assert as_json(app, "active") == [{"domain": "one.test", "active": 4}, {"domain": "two.test", "active": 1}]
    assert as_json(app, "active 1") == [{"domain": "one.test", "active": 4}]
    assert as_json(app, "delayed") == [{"domain": "two.test", "delayed": 5}, {"domain": "three.test", "delayed": 1}]
    assert body(run(app, "delayed 4"))[1].split() == ["5", "two.test"]
    assert as_json(app, "binding active b1") == [{"domain": "one.test", "active": 1},
                                                 {"domain": "two.test", "active": 1}]
    assert as_json(app, "binding delayed b2") == [{"domain": "three.test", "delayed": 1}]
    assert run(app, "binding active").status == 400


def test_binding_summary_layouts(app):
    lines = body(run(app, "binding summary b1"))
    assert lines[0] == "Summary Statistics For Binding b1"
    assert "\tActive Queue Size:       2" in lines and "\tReceived Messages:       2" in lines
    group = body(run(app, "binding summary group:g1"))
    assert group[0] == "Summary Statistics For Binding b2 in Binding Group g1"
    everything = as_json(app, "binding summary")
    assert {row["binding"]: row["total_queue_size"] for row in everything} == {"b1": 2, "b2": 1, "default": 8}
    assert run(app, "binding summary nosuch").status == 404
    assert run(app, "binding summary group:nosuch").status == 404


def test_showqueue_lists_messages_with_state_and_paging(app):
    lines = body(run(app, "showqueue two.test"))
    assert len(lines) == 12  # 6 messages, two lines each
    assert lines[0].startswith("[delayed/default] ") and "Created: " in lines[0]
    assert lines[1].startswith("  From: <sender@src.test> To: <v0@two.test>")
    assert any(line.startswith("[active/b1] ") for line in lines[::2])
    b1 = as_json(app, "showqueue binding b1 two.test")
    assert [(r["state"], r["to"]) for r in b1] == [("active", "x@two.test")]
    page = as_json(app, "showqueue binding all two.test 2,1")
    assert [r["to"] for r in page] == ["v1@two.test", "v2@two.test"]
    assert run(app, "showqueue").status == 400
    assert run(app, "showqueue two.test 5").status == 400
