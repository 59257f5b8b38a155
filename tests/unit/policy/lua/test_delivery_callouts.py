"""Delivery callouts over a real spool and a real queue manager's observer list: the
read-only msg over a spooled message, msys.delivery.ob_get_current_message, the order
and arguments of the callouts, the bound on waiting results, failures kept away from
the caller. The daemon path (real deliveries to a sink) is
tests/scenarios/test_lua_delivery_callouts.py."""
from __future__ import annotations

import os

import gevent
import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.policy.lua import delivery_callouts
from ecelerity.policy.lua.delivery_callouts import DeliveryCallouts
from ecelerity.policy.lua.lib_inject import bindings_of
from ecelerity.queue.manager import QueueManager

from .conftest import values

BODY = b"Subject: =?utf-8?q?caf=C3=A9?=\r\nFrom: alice@c.test\r\n\r\nhello\r\n"

RECORDER = r'''
seen = {}
local mod = {}
local function note_it(kind, msg, dc, now, note)
  local code, text = msg:code()
  seen[#seen + 1] = table.concat({kind, msg:id(), msg:rcptto(), msg:mailfrom(),
    msg:header("Subject")[1], tostring(code), text, dc.outcome, dc.domain, dc.enhanced, dc.text,
    tostring(dc.retries), note, tostring(msys.delivery.ob_get_current_message() == msg),
    tostring(now > 0), msg:context_get(msys.core.VCTX_MESS, "k")}, "|")
end
function mod:core_log_delivery_v1(...) note_it("D", ...) end
function mod:core_log_permanent_failure_v1(...) note_it("P", ...) end
msys.registerModule("recorder", mod)
'''


@pytest.fixture
def stored(tmp_path):
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    envelope = Envelope(mail_from="alice@c.test", recipients=[Recipient("bob@d.test"),
                                                              Recipient("carol@d.test")],
                        mess_context={"k": "v"})
    batch = spool.store(envelope, BODY)
    yield spool, batch.messages
    spool.close()


def drain(callouts):
    with gevent.Timeout(5):
        while callouts._pending or callouts._greenlet is not None:
            gevent.sleep(0.001)


def test_callouts_run_with_the_result_and_the_spooled_message(rt, stored):
    spool, (bob, carol) = stored
    env = rt.load_source(RECORDER, "recorder.lua")
    manager = QueueManager(load_config_text(""), spool, None)
    callouts = DeliveryCallouts(rt, bindings_of(rt), spool)
    assert callouts.wanted == {"delivered", "failed"}
    callouts.attach(manager)
    assert callouts.observe in manager.observers
    callouts.observe("delivered", bob, "250 2.0.0 queued as 42")
    callouts.observe("transient", bob, "451 4.2.0 later")  # no module wants it
    callouts.observe("failed", carol, "550 5.1.1 no such user")
    drain(callouts)
    assert (callouts.calls, callouts.failures) == (2, 0), rt.logged
    seen = [line.decode() for line in rt.from_lua(env[b"seen"])]
    assert seen == [
        f"D|{bob.id}|bob@d.test|alice@c.test|café|250|2.0.0 queued as 42|delivered|d.test|2.0.0|"
        "queued as 42|0|250 2.0.0 queued as 42|true|true|v",
        f"P|{carol.id}|carol@d.test|alice@c.test|café|550|5.1.1 no such user|failed|d.test|5.1.1|"
        "no such user|0|550 5.1.1 no such user|true|true|v"]
    callouts.detach()
    assert callouts.observe not in manager.observers
    callouts.observe("delivered", bob, "250 ok")  # detached: ignored
    assert not callouts._pending


def test_read_only_msg_and_current_message_from_lua(rt, stored):
    spool, (bob, _carol) = stored
    from ecelerity.policy.lua.delivery_message import DeliveryMessage, parse_detail
    msg = bindings_of(rt).msg(DeliveryMessage(spool, bob, parse_detail("550 5.1.1 no such user")))
    env = rt.sandbox.new_env(b"t")
    chunk = rt.sandbox.load_in(env, b"""
        local msg = ...
        local code, text = msg:code()
        local ok_add, add_error = pcall(msg.header, msg, "X-Late", "v")
        local ok_from = pcall(msg.mailfrom, msg, "other@x.test")
        return msg:header("Subject")[1], msg:mailfrom(), msg:rcptto(), code, text,
               ok_add, tostring(add_error):match("read%-only") ~= nil, ok_from, msg:body(),
               msys.delivery.ob_get_current_message(), msg:get_message_size()
    """, b"=t")
    got = values(rt.call(chunk, msg))
    assert got == ("café".encode(), b"alice@c.test", b"bob@d.test", 550, b"5.1.1 no such user",
                   False, True, False, b"hello\r\n", None, len(BODY))


def test_a_body_gone_from_the_spool_is_a_script_error_not_a_crash(rt, stored):
    spool, (bob, carol) = stored
    rt.load_source(RECORDER, "recorder.lua")
    callouts = DeliveryCallouts(rt, bindings_of(rt), spool)
    callouts._manager = object()  # observing (attach needs only the observers list)
    spool.remove_many([bob, carol])  # the in-memory copy goes with the last message
    os.unlink(os.path.join(spool.segment_dir, os.listdir(spool.segment_dir)[0]))
    callouts.observe("delivered", bob, "250 ok")
    drain(callouts)
    assert callouts.failures == 1
    assert any("no longer readable in the spool" in text for _module, text in rt.logged), rt.logged


def test_the_observer_is_bounded_and_never_raises(rt, stored, monkeypatch):
    spool, (bob, _carol) = stored
    rt.load_source(RECORDER, "recorder.lua")
    monkeypatch.setattr(delivery_callouts, "MAX_PENDING", 3)
    callouts = DeliveryCallouts(rt, bindings_of(rt), spool)
    callouts._manager = object()
    for _ in range(5):  # no yield in between: nothing is drained yet
        callouts.observe("delivered", bob, "250 ok")
    callouts.observe("delivered", None, "250 ok")  # still full: dropped as well
    assert (len(callouts._pending), callouts.dropped) == (3, 3)
    assert sum("dropping results" in text for _m, text in rt.logged) == 1
    drain(callouts)
    assert callouts.calls == 3


def test_a_broken_result_is_logged_and_the_next_one_still_runs(rt, stored):
    spool, (bob, _carol) = stored
    env = rt.load_source(RECORDER, "recorder.lua")
    callouts = DeliveryCallouts(rt, bindings_of(rt), spool)
    callouts._manager = object()
    callouts.observe("delivered", None, "250 ok")  # not a spooled message
    callouts.observe("delivered", bob, "250 ok")
    drain(callouts)
    assert callouts.failures == 1 and len(rt.from_lua(env[b"seen"])) == 1
    assert any("core_log_delivery_v1 for ?: AttributeError" in text for _m, text in rt.logged)
