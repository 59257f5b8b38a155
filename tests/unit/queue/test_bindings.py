"""ecelerity/queue/bindings.py and binding assignment in the manager: named binding,
binding_group picks (suspended and unplumbed members skipped), default_binding, the DSN
binding, and routing_domain choosing the queue. Real config, real spool, ManualClock;
the engine is queue_fakes' scripted one."""
from __future__ import annotations

import random
from collections import Counter


from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.queue.bindings import NO_BINDING_REPLY, BindingChooser, reception_refusal
from ecelerity.queue.manager import ACTIVE

from tests.unit.queue.queue_fakes import wait_for

GROUPS = ('Binding_Group "pool" {\n'
          '  Binding "p1" { Bind_Address = "127.0.0.2" }\n'
          '  Binding "p2" { Bind_Address = "127.0.0.3" }\n'
          '  Binding "p3" { Bind_Address = "127.0.0.4" }\n'
          '}\n'
          'Binding_Group "far" { Binding "f1" { Bind_Address = "192.0.2.77" }\n'
          '                      Binding "f2" { Bind_Address = "127.0.0.5" } }\n'
          'Binding "solo" { }\n')


def picks(config, group, *, suspended=frozenset(), binding=None, n=300):
    chooser = BindingChooser(random.Random(7))
    return Counter(chooser.choose(config, binding=binding, group=group,
                                  suspended=lambda name: name in suspended) for _ in range(n))


def test_group_picks_spread_over_members_and_skip_suspended_ones():
    config = load_config_text(GROUPS)
    spread = picks(config, "pool")
    assert set(spread) == {"p1", "p2", "p3"} and min(spread.values()) > 60
    assert set(picks(config, "pool", suspended={"p2"})) == {"p1", "p3"}
    # every member suspended: still a member (it waits there), never another group's
    assert set(picks(config, "pool", suspended={"p1", "p2", "p3"})) == {"p1", "p2", "p3"}


def test_suspend_delivery_in_config_and_unplumbed_addresses_are_skipped():
    config = load_config_text(GROUPS.replace('"p3" { Bind_Address = "127.0.0.4" }',
                                             '"p3" { Bind_Address = "127.0.0.4" suspend_delivery = true }'))
    manager_view = lambda name: bool(config.get("suspend_delivery", binding=name))  # noqa: E731
    chooser = BindingChooser(random.Random(1))
    seen = {chooser.choose(config, binding=None, group="pool", suspended=manager_view)
            for _ in range(100)}
    assert seen == {"p1", "p2"}
    # 192.0.2.77 (TEST-NET) is not an address of this host: f1 is unplumbed
    assert set(picks(config, "far")) == {"f2"}


def test_named_binding_wins_unknown_falls_through_to_group_then_default():
    config = load_config_text(GROUPS)
    chooser = BindingChooser(random.Random(3))
    assert chooser.choose(config, binding="solo", group="pool") == "solo"
    assert chooser.choose(config, binding="nosuch", group="pool") in {"p1", "p2", "p3"}
    assert chooser.choose(config, binding="nosuch", group="nogroup") == "default"
    assert chooser.choose(config, binding=None, group=None) == "default"


def test_reception_refusal_only_when_default_binding_none_and_nothing_else_applies():
    normal = load_config_text(GROUPS)
    none = load_config_text(GROUPS + 'default_binding = "none"\n')
    assert reception_refusal(normal, binding=None, group=None) is None
    assert reception_refusal(none, binding=None, group=None) == NO_BINDING_REPLY
    assert reception_refusal(none, binding="nosuch", group=None) == NO_BINDING_REPLY
    assert reception_refusal(none, binding="solo", group=None) is None
    assert reception_refusal(none, binding=None, group="pool") is None


def group_store(rig, recipients, group, **envelope):
    env = Envelope(mail_from="sender@origin.test", recipients=[Recipient(r) for r in recipients],
                   binding_group=group, **envelope)
    batch = rig.spool.store(env, b"Subject: t\r\n\r\nbody\r\n")
    rig.manager.admit(batch)
    return batch


def test_manager_delivers_a_group_message_from_a_member_binding(rigs):
    rig = rigs(GROUPS)
    rig.manager.chooser.rng = random.Random(11)
    rig.manager.suspended_bindings.add("p1")
    group_store(rig, [f"u{i}@dest.test" for i in range(12)], "pool")
    wait_for(lambda: len(rig.spool) == 0, what="all delivered")
    used = {binding for _, binding, _, _ in rig.engine.calls}
    assert used <= {"p2", "p3"} and used


def test_default_binding_suspended_holds_default_but_not_named_bindings(rigs):
    rig = rigs(GROUPS + 'default_binding = "suspended"\n')
    held = rig.store(["a@dest.test"]).messages[0]
    sent = rig.store(["b@dest.test"], binding="solo").messages[0]
    wait_for(lambda: sent.removed, what="the solo message")
    assert not held.removed and rig.manager.entry(held.id).state == ACTIVE
    assert [(b, ids) for _, b, _, ids in rig.engine.calls] == [("solo", [sent.id])]


def test_dsn_leaves_from_the_failed_message_binding_unless_default_binding_normal(rigs):
    rig = rigs(GROUPS + 'default_binding = "none"\n',
               script=lambda b, d, m: "permanent" if d == "dest.test" else "delivered")
    rig.store(["gone@dest.test"], binding="solo")
    wait_for(lambda: any(d == "origin.test" for _, _, d, _ in rig.engine.calls), what="the DSN")
    assert [b for _, b, d, _ in rig.engine.calls if d == "origin.test"] == ["solo"]
    plain = rigs(GROUPS, script=lambda b, d, m: "permanent" if d == "dest.test" else "delivered")
    plain.store(["gone@dest.test"], binding="solo")
    wait_for(lambda: any(d == "origin.test" for _, _, d, _ in plain.engine.calls), what="DSN")
    assert [b for _, b, d, _ in plain.engine.calls if d == "origin.test"] == ["default"]


def test_routing_domain_chooses_the_queue_and_route_not_the_recipient_domain(rigs):
    rig = rigs()
    env = Envelope(mail_from="s@origin.test", recipients=[Recipient("a@real.test"),
                                                          Recipient("b@other.test")],
                   mess_context={"routing_domain": "Hub.Test"})
    batch = rig.spool.store(env, b"Subject: t\r\n\r\nbody\r\n")
    rig.manager.admit(batch)
    wait_for(lambda: len(rig.spool) == 0, what="delivered")
    assert [(d, sorted(ids)) for _, _, d, ids in rig.engine.calls] == [
        ("hub.test", sorted(m.id for m in batch.messages))]
    assert {m.recipient.address for m in batch.messages} == {"a@real.test", "b@other.test"}


def test_over_max_resident_messages_is_logged_once_and_clears(rigs):
    rig = rigs("max_resident_messages = 5\nsuspend_delivery = true\n")
    rig.store([f"u{i}@dest.test" for i in range(4)])
    assert not rig.manager.over_resident_limit()
    rig.store([f"v{i}@dest.test" for i in range(4)])
    rig.store(["w@dest.test"])
    assert rig.manager.over_resident_limit()
    notes = [line for line in rig.log_lines if "max_resident_messages" in line]
    assert len(notes) == 1 and "8 messages held for the server" in notes[0]
    from ecelerity.queue.admin import QueueAdmin
    QueueAdmin(rig.manager).fail_domain("dest.test", quiet=True)
    rig.manager.run_pending()
    assert not rig.manager.over_resident_limit()
    assert "back under max_resident_messages = 5" in rig.log_lines[-1]


def test_max_resident_messages_of_a_binding_is_checked_on_its_own(rigs):
    rig = rigs('suspend_delivery = true\nBinding "solo" { max_resident_messages = 2 }\n')
    rig.store(["a@dest.test", "b@dest.test", "c@dest.test"])
    assert not rig.manager.over_resident_limit() and not rig.manager.over_resident_limit("solo")
    rig.store(["d@dest.test", "e@dest.test", "f@dest.test"], binding="solo")
    assert rig.manager.over_resident_limit("solo") and not rig.manager.over_resident_limit()
    assert [line for line in rig.log_lines if "max_resident" in line] == [
        "queue: 3 messages held for binding solo, above max_resident_messages = 2: about "
        "0.0 MB of queue metadata in memory (bodies stay on disk)"]
