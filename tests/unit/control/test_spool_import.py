"""ecelerity/control/spool_import.py against a real in-process App and a real second spool:
live messages are copied with their envelope, body, retry state and creation time (kept
across a restart), delivered ones are not, the source is left byte-for-byte as it was,
each message is an importlog line (ec_logger's importlog), and a spool that a process
holds, this daemon's own spool or a non-spool are refused."""
from __future__ import annotations

import hashlib
import json
import os
import time

import gevent
import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.log.ec_logger import EcLogger
from ecelerity.log.service import hub_for
from tests.unit.control._console_app import run, running_app, stop


def with_importlog(app, path):
    """The importlog of an ec_logger stanza, in the app's log fan-out (as the module does)."""
    logger = EcLogger({"importlog": str(path)}, log_dir=str(path.parent), use_threadpool=False)
    hub_for(app).add(logger)
    return logger


@pytest.fixture
def app(tmp_path):
    (tmp_path / "daemon").mkdir()
    app = running_app(tmp_path / "daemon")
    app.importlog = with_importlog(app, tmp_path / "daemon" / "importlog.ec")
    yield app
    stop(app)
    app.importlog.close()


def ok(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def make_source(path) -> dict:
    """A spool with 2 batches: one fully live (2 rcpts, one delayed), one half delivered."""
    spool = Spool(str(path), fsync=False)
    try:
        env1 = Envelope(mail_from="a@src.test", recipients=[Recipient("x@one.test"), Recipient("y@two.test")],
                        peer_ip="192.0.2.7", protocol="esmtp", conn_context={"k": "v"},
                        received_at=1_700_000_000.0)
        b1 = spool.store(env1, b"Subject: one\r\n\r\nbody one\r\n")
        spool.update(b1.messages[1], retries=3, next_attempt=time.time() + 3600,
                     last_error="451 4.4.1 later", binding="b7")
        env2 = Envelope(mail_from="", recipients=[Recipient("z@three.test"), Recipient("w@three.test")],
                        peer_ip="192.0.2.8", protocol="smtp", received_at=1_700_000_100.0)
        b2 = spool.store(env2, b"Subject: two\r\n\r\nbody two\r\n")
        spool.remove(b2.messages[0])
        return {"created": b1.messages[0].created, "ids": [b1.messages[0].id, b1.messages[1].id,
                                                           b2.messages[1].id]}
    finally:
        spool.close()


def snapshot(path) -> dict:
    found = {}
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                found[os.path.relpath(full, path)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def wait_done(app, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = json.loads("\n".join(ok(run(app, "spool import_poll --json"))))
        if data["state"] != "running" or time.monotonic() > deadline:
            return data
        gevent.sleep(0.02)


def test_import_copies_live_messages_with_their_state(app, tmp_path):
    source = tmp_path / "other"
    made = make_source(source)
    before = snapshot(source)
    assert ok(run(app, "spool import_poll")) == ["no spool import has run"]
    assert ok(run(app, f"spool import {source}")) == [
        f"importing {source}; 'spool import_poll' shows progress"]
    data = wait_done(app)
    assert (data["state"], data["found"], data["imported"], data["failed"]) == ("done", 3, 3, 0)
    assert snapshot(source) == before  # read-only: not even a .lock change
    messages = sorted(app.spool.messages(), key=lambda m: m.recipient.address)
    assert [m.recipient.address for m in messages] == ["w@three.test", "x@one.test", "y@two.test"]
    w, x, y = messages
    assert x.envelope.mail_from == "a@src.test" and x.envelope.conn_context == {"k": "v"}
    assert x.envelope.peer_ip == "192.0.2.7" and x.envelope.received_at == 1_700_000_000.0
    assert x.batch_id == y.batch_id != w.batch_id and w.envelope.mail_from == ""
    assert [r.address for r in x.envelope.recipients] == ["x@one.test", "y@two.test"]
    assert [r.address for r in w.envelope.recipients] == ["w@three.test"]  # z was delivered
    assert (y.retries, y.last_error, y.binding) == (3, "451 4.4.1 later", "b7")
    assert y.next_attempt > time.time() + 3000 and x.retries == 0
    assert x.created == made["created"]
    assert app.spool.read_body(x) == b"Subject: one\r\n\r\nbody one\r\n"
    assert app.spool.read_body(w) == b"Subject: two\r\n\r\nbody two\r\n"
    assert len({m.id for m in messages}) == 3  # IDs of this spool (they may equal the source's)
    summary = json.loads("\n".join(ok(run(app, "summary --json"))))
    assert (summary["total_queue_size"], summary["delayed_queue_size"]) == (3, 1), summary
    app.paniclog.flush()
    log = (tmp_path / "daemon" / "paniclog.ec").read_text()
    assert "import of" in log and "done: 3 of 3 message(s) imported" in log
    app.importlog.flush()
    lines = (tmp_path / "daemon" / "importlog.ec").read_text().splitlines()
    assert [line.split("@", 1)[1] for line in lines] == [
        f"{old}@I@{new.id}@1@{source}" for old, new in zip(made["ids"], [x, y, w], strict=True)]
    assert all(abs(int(line.split("@")[0]) - time.time()) < 60 for line in lines)
    assert ok(run(app, "spool import_poll"))[0] == f"spool import of {source}: done"


def test_refusals(app, tmp_path):
    assert run(app, "spool import").status == 400
    assert run(app, f"spool import {tmp_path}/nowhere").status == 400
    assert run(app, f"spool import {app.spool.base_dir}").text.endswith("is this daemon's own spool")
    held = Spool(str(tmp_path / "held"), fsync=False)
    try:
        ok(run(app, f"spool import {tmp_path}/held"))
        data = wait_done(app)
        assert data["state"] == "failed" and "in use by another process" in data["error"]
    finally:
        held.close()
    assert len(app.spool) == 0


def test_creation_time_and_retry_state_survive_a_restart(tmp_path):
    """The spool keeps the original creation time (expiry counts from the original
    reception), not the import time, once the daemon starts again."""
    source = tmp_path / "other"
    made = make_source(source)
    (tmp_path / "daemon").mkdir()
    conf = "message_expiration = 1000\n"
    first = running_app(tmp_path / "daemon", conf)
    try:
        ok(run(first, f"spool import {source}"))
        assert wait_done(first)["imported"] == 3
    finally:
        stop(first)
    again = running_app(tmp_path / "daemon", conf)
    try:
        messages = {m.recipient.address: m for m in again.spool.messages()}
        assert sorted(messages) == ["w@three.test", "x@one.test", "y@two.test"]
        x, y = messages["x@one.test"], messages["y@two.test"]
        assert x.created == y.created == made["created"]
        assert (y.retries, y.last_error, y.binding) == (3, "451 4.4.1 later", "b7")
        assert y.next_attempt > time.time() + 3000
        assert again.queue_manager.entry(x.id).expires_at == made["created"] + 1000
        details = json.loads("\n".join(ok(run(again, f"message details {x.id} --json"))))
        assert details["created"] == made["created"]
    finally:
        stop(again)


def test_an_old_message_keeps_its_age(tmp_path):
    """A message received two days before the import expires by its reception date."""
    source = tmp_path / "old"
    spool = Spool(str(source), fsync=False)
    try:
        envelope = Envelope(mail_from="a@src.test", recipients=[Recipient("x@one.test")])
        template = spool.store(envelope, b"Subject: a\r\n\r\nb\r\n").messages[0]
        spool.remove(template)
        template.created = time.time() - 2 * 86400
        aged = spool.store(Envelope.from_dict(envelope.to_dict()), b"Subject: a\r\n\r\nb\r\n",
                           carried=[template]).messages[0]
    finally:
        spool.close()
    (tmp_path / "daemon").mkdir()
    first = running_app(tmp_path / "daemon")
    try:
        ok(run(first, f"spool import {source}"))
        assert wait_done(first)["imported"] == 1
    finally:
        stop(first)
    again = running_app(tmp_path / "daemon", "message_expiration = 86400\n")
    try:
        [message] = again.spool.messages()
        assert message.created == aged.created < time.time() - 86400
        entry = again.queue_manager.entry(message.id)
        # loaded already expired: one last attempt, then it fails (queue/entry.py)
        assert entry is not None and entry.last_chance
    finally:
        stop(again)
