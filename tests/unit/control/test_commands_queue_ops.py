"""ecelerity/control/commands_queue_ops.py and commands_domain.py against a real in-process
App: fail (with and without DSNs), flush, retry, reroute, rebind, domain, message details."""
from __future__ import annotations

import json

import pytest

from tests.unit.control._console_app import queue_mail, run, running_app, stop

CONFIG = 'Binding "b1" { }\nDomain "two.test" { max_outbound_connections = 3 gateway = "127.0.0.1:9" }\n'


@pytest.fixture
def app(tmp_path):
    app = running_app(tmp_path, CONFIG)
    yield app
    stop(app)


def ok(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def data(app, line):
    return json.loads("\n".join(ok(run(app, line + " --json"))))


def queued(app, domain=None):
    return [e.message for e in app.queue_admin.messages(domain=domain)]


def test_fail_domain_quiet_removes_without_dsn_and_loud_makes_dsns(app):
    queue_mail(app, [f"a{i}@one.test" for i in range(4)], delay=600)
    queue_mail(app, ["b@two.test"])
    assert ok(run(app, "fail domain quiet one.test")) == ["4 message(s) failed quietly for one.test"]
    assert [m.recipient.address for m in app.spool.messages()] == ["b@two.test"]
    assert data(app, "summary")["failed"] == 4
    assert ok(run(app, "fail domain two.test")) == ["1 message(s) failed for two.test"]
    dsns = app.spool.messages()  # the bounce to the sender is now queued
    assert [m.recipient.address for m in dsns] == ["sender@src.test"] and dsns[0].envelope.mail_from == ""
    assert ok(run(app, "fail domain nowhere.test")) == ["0 message(s) failed for nowhere.test"]
    assert run(app, "fail domain").status == 400


def test_binding_fail_domain_touches_only_that_binding(app):
    queue_mail(app, ["a@one.test"], binding="b1")
    queue_mail(app, ["b@one.test"])
    assert data(app, "binding fail domain quiet b1 one.test")["messages"] == 1
    assert [m.recipient.address for m in queued(app)] == ["b@one.test"]


def test_flush_and_message_retry_move_delayed_to_active(app):
    batch = queue_mail(app, [f"a{i}@one.test" for i in range(3)], delay=600)
    queue_mail(app, ["b@one.test"], binding="b1", delay=600)
    first = batch.messages[0].id
    assert ok(run(app, f"message retry {first}")) == [f"message {first} scheduled for delivery now"]
    assert run(app, f"message retry {first}").status == 550  # active now: nothing to retry
    assert data(app, "binding flush domain b1 one.test")["messages"] == 1
    assert data(app, "flush domain one.test")["messages"] == 2
    assert data(app, "summary")["delayed_queue_size"] == 0
    assert run(app, "message retry nosuch").status == 404


def test_message_fail_and_details(app):
    batch = queue_mail(app, ["a@one.test", "b@one.test"], delay=600)
    one, two = (m.id for m in batch.messages)
    details = ok(run(app, f"message details {one}"))
    fields = dict(line.strip().split(": ", 1) for line in details if ": " in line)
    assert fields["Message"] == one and fields["Message Type"] == "full message"
    assert fields["Retries"] == "1" and fields["Code"] == "451 4.4.1 try later"
    assert fields["Sender"] == "sender@src.test" and fields["Recipient"] == "a@one.test"
    assert fields["Received Via"] == "ESMTP 127.0.0.1 (IPv4)"
    assert fields["Size"] == str(batch.messages[0].size) and fields["Queue"] == "delayed/default"
    full = data(app, f"message details body {one}")
    assert full["connection_context"] == {"note": "unit"} and full["body"].endswith("hello\r\n")
    assert ok(run(app, f"message fail quiet {one}")) == [f"message {one} failed quietly"]
    assert run(app, f"message details {one}").status == 404
    assert ok(run(app, f"message fail {two}")) == [f"message {two} failed"]
    assert [m.recipient.address for m in app.spool.messages()] == ["sender@src.test"]  # the DSN


def test_reroute_queue_moves_to_the_other_domain(app):
    queue_mail(app, ["a@one.test", "b@one.test"])
    queue_mail(app, ["c@one.test"], delay=600)
    assert ok(run(app, "reroute queue one.test two.test")) == ["3 message(s) rerouted from one.test to two.test"]
    rows = {(r["domain"], r["aq"], r["dq"]) for r in data(app, "mailq")["QueueSummary"]}
    assert ("two.test", 2, 1) in rows and all(r[0] != "one.test" or r[1:] == (0, 0) for r in rows)
    assert run(app, "reroute queue one.test ONE.test").status == 400


def test_rebind_moves_between_bindings(app):
    queue_mail(app, ["a@one.test", "b@two.test"])
    assert data(app, "rebind binding default domain one.test to b1")["messages"] == 1
    assert {(m.recipient.address, m.binding) for m in queued(app)} == {("a@one.test", "b1"),
                                                                        ("b@two.test", None)}
    assert run(app, "rebind domain two.test to nosuch").status == 404


def test_rebind_without_to_reruns_binding_assignment(app):
    queue_mail(app, ["a@one.test", "b@two.test"], binding="b1")
    queue_mail(app, ["c@one.test"])
    assert data(app, "rebind binding default to b1")["messages"] == 1
    # the policy's choice (b1 for a and b, none for c) is re-resolved: c goes back
    reply = ok(run(app, "rebind domain one.test"))
    assert reply == ["1 message(s) rebound by binding assignment"]
    assert {(m.recipient.address, m.binding) for m in queued(app)} == {
        ("a@one.test", "b1"), ("b@two.test", "b1"), ("c@one.test", "default")}
    assert {(e.message.recipient.address, e.key[0]) for e in app.queue_admin.messages()} == {
        ("a@one.test", "b1"), ("b@two.test", "b1"), ("c@one.test", "default")}
    assert data(app, "rebind binding b1")["messages"] == 0


def test_domain_shows_config_block_route_and_counts(app):
    queue_mail(app, ["a@two.test", "b@two.test"])
    queue_mail(app, ["c@two.test"], delay=600)
    d = data(app, "domain two.test")
    assert (d["active"], d["delayed"], d["received"]) == (2, 1, 3)
    assert d["config"] == [["max_outbound_connections", "3"], ["gateway", "127.0.0.1:9"]]
    lines = ok(run(app, "domain two.test"))
    assert lines[:5] == ["Domain two.test {", "  max_outbound_connections = 3", "  gateway = 127.0.0.1:9",
                         "}", "Domain 'two.test' is routed to gateway 127.0.0.1:9"]
    assert "\tActive:          2" in lines and "\tDelayed:         1" in lines
    everything = data(app, "domain all")
    assert [(r["domain"], r["active"], r["delayed"]) for r in everything] == [("two.test", 2, 1)]
