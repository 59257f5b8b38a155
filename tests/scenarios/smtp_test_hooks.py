"""Validation hooks used by test_smtp_phases.py (loaded into the listener with --hooks)."""
from __future__ import annotations

from ecelerity.policy.phases import CONTINUE, DONE, PRIORITY_CORE, PRIORITY_LUA, PRIORITY_MODULE


def register(hooks) -> None:
    def connect(vctx):
        vctx.set("conn", "seen_connect", "yes")
        return CONTINUE

    def ehlo(vctx, helo):
        if helo.startswith("bad."):
            vctx.set_code(550, "5.7.1 we do not talk to bad hosts")
            return DONE
        if helo.startswith("drop."):
            vctx.disconnect(421, "4.7.0 Go away")
            return DONE
        return CONTINUE

    def mailfrom(vctx, mailfrom_string):
        if vctx.get("mess", "mailfrom_domain") == "slow.test":
            vctx.tarpit(0.5)
        if vctx.get("mess", "mailfrom_domain") == "later.test":
            vctx.set_code(451, "4.7.5 try again later")
            return DONE
        return CONTINUE

    order = []

    def rcpt_lua(vctx, rcpt_string, recipient):
        order.append("lua")
        vctx.set("mess", "hook_order", ",".join(order))
        return CONTINUE

    def rcpt_module(vctx, rcpt_string, recipient):
        order.clear()
        order.append("module")
        if vctx.get("mess", "rcptto_localpart") == "blocked":
            vctx.set_code(550, "5.1.1 no such user")
            return DONE
        return CONTINUE

    def data_spool(vctx, message):
        if message.header("Subject") == ["reject"]:
            vctx.set_code(554, "5.7.1 content refused")
            return DONE
        vctx.header_add("X-Policy", "checked")
        vctx.header_delete("X-Secret")
        return CONTINUE

    def each_rcpt(vctx, message, recipient):
        if recipient.address.startswith("late-reject@"):
            vctx.set_code(550, "5.7.1 not for you")
            return DONE
        return CONTINUE

    def set_binding(vctx, message):
        vctx.set_binding("outbound-b")
        return CONTINUE

    hooks.register("connect", connect, priority=PRIORITY_CORE)
    hooks.register("ehlo", ehlo)
    hooks.register("mailfrom", mailfrom)
    hooks.register("rcptto", rcpt_lua, priority=PRIORITY_LUA)
    hooks.register("rcptto", rcpt_module, priority=PRIORITY_MODULE)
    hooks.register("data_spool", data_spool)
    hooks.register("data_spool_each_rcpt", each_rcpt)
    hooks.register("set_binding", set_binding)
