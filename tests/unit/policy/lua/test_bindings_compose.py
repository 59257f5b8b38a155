"""msg:build/inject/forward, get_envelope2, routing_domain, listener_addr, address_header,
makePart/makeContainer, msgpart fields and raw_replace, vctx:recipient_list(set), on
every available engine, over the live proxies (bindings_real.py)."""
from __future__ import annotations

import email

from ecelerity.core.envelope import Recipient
from ecelerity.policy.lua.bindings_real import LiveBindings, LiveMessage, LiveVctx
from ecelerity.policy.vctx import ValidationContext

from .conftest import values
from .test_bindings_real import MULTI, RAW, inbound


def _msg(rt, raw=RAW, *, recipient=None, conn=None):
    vctx = ValidationContext(conn=conn or {"local_addr": "127.0.0.1:2525"},
                             recipients=[Recipient("c@d.example")])
    msg = LiveMessage(vctx, inbound(raw), recipient, phase="data")
    return vctx, msg, LiveBindings(rt)


def _capture(rt):
    injected = []

    def injector(envelope, data):
        injected.append((envelope, data))
        return f"B-{len(injected)}"
    rt.injector = injector
    return injected


def test_build_then_inject_spools_a_well_formed_mime_message(rt, run):
    injected = _capture(rt)
    got = values(run("""
        local m = msys.core.ec_message_new()
        m:build({Subject = "report", From = "a@b.example", To = "c@d.example"},
                {["text/plain; charset=utf-8"] = "plain text", ["text/html"] = "<b>html</b>"},
                {{type = "text/csv", name = "n.csv", content = "1,2\\n"}})
        return m:inject("<a@b.example>", {"x@y.example", "z@y.example"})"""))
    assert got == (b"B-1",)
    [(envelope, data)] = injected
    assert envelope.mail_from == "a@b.example" and envelope.protocol == "lua"
    assert [r.address for r in envelope.recipients] == ["x@y.example", "z@y.example"]
    parsed = email.message_from_bytes(data)
    assert parsed["Subject"] == "report" and parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert attachment.get_filename() == "n.csv" and attachment.get_payload(decode=True) == b"1,2\n"


def test_forward_injects_a_copy_with_the_edits_and_keeps_the_original(rt, run):
    injected = _capture(rt)
    vctx, msg, b = _msg(rt)
    got = values(run("""
        local msg = ...
        msg:header("X-Fwd", "yes")
        return msg:forward("copy@example.com"), msg:forward({"a@x.example"}, "")""", b.msg(msg)))
    assert got == (b"B-1", b"B-2")
    (first, data), (second, _) = injected
    assert first.mail_from == "a@b.example" and second.mail_from == ""
    assert [r.address for r in first.recipients] == ["copy@example.com"]
    assert b"X-Fwd: yes" in data and b"SECRET-42" in data
    assert "forward" in run("local m = ... return m:forward({})", b.msg(msg)).error


def test_inject_without_a_daemon_is_a_catchable_error(rt, run):
    got = values(run("""
        local m = msys.core.ec_message_new()
        m:build({Subject = "x"}, {["text/plain"] = "y"})
        return pcall(m.inject, m, "a@b.example", "c@d.example")"""))
    assert got[0] is False and b"needs the running daemon" in got[1]


def test_envelope_routing_listener_and_context_accessors(rt, run):
    vctx, msg, b = _msg(rt, recipient=Recipient("User@Dest.Example"),
                        conn={"local_addr": "[::1]:2526"})
    vctx.mess["k"] = "v"
    got = values(run("""
        local msg = ...
        local fl, fd, tl, td = msys.core.string_new(), msys.core.string_new(),
                               msys.core.string_new(), msys.core.string_new()
        msg:get_envelope2(msys.core.EC_MSG_ENV_FROM, fl, fd)
        msg:get_envelope2(msys.core.EC_MSG_ENV_TO, tl, td)
        local before = msg:routing_domain()
        msg:routing_domain("Relay.Example")
        local e1, v1 = msg:context_exists_and_get(msys.core.ECMESS_CTX_MESS, "k")
        local e2, v2 = msg:context_exists_and_get(msys.core.ECMESS_CTX_MESS, "nope")
        return tostring(fl) .. "|" .. tostring(fd) .. "|" .. tl.value .. "|" .. td.value,
               before, msg:routing_domain(), msg:listener_addr("ip"), msg:listener_addr("port"),
               msg:listener_addr(), e1, v1, e2, v2, msg.id(), msg:id()""", b.msg(msg)))
    assert got == (b"a|b.example|User|Dest.Example", b"dest.example", b"relay.example", b"::1",
                   2526, b"[::1]:2526", True, b"v", False, None, b"12/00-1-DEF", b"12/00-1-DEF")
    assert vctx.mess["routing_domain"] == "relay.example"
    assert "EC_MSG_ENV_FROM" in run("local m = ... m:get_envelope2(7, {}, {})", b.msg(msg)).error


def test_address_header_components(rt, run):
    raw = (b'From: "Ann Example" <ann@a.example>\r\nTo: bob@b.example, Carl <c@c.example>\r\n'
           b'Cc: team: d@d.example, e@e.example;\r\n\r\nbody\r\n')
    _, msg, b = _msg(rt, raw)
    got = values(run("""
        local msg = ...
        local from = msg:address_header("From")[1]
        local to = msg:address_header("To", "domain")
        return from.name, from.local_part, from.domain, from.address, table.concat(to, ","),
               #msg:address_header("Cc"), #msg:mime():address_header("To")""", b.msg(msg)))
    assert got == (b"Ann Example", b"ann", b"a.example", b"ann@a.example",
                   b"b.example,c.example", 2, 2)
    assert "unknown address component" in run(
        "local m = ... m:address_header('From', 'shoe')", b.msg(msg)).error


def test_make_part_container_fields_and_part_raw_replace(rt, run):
    _, msg, b = _msg(rt, MULTI)
    got = values(run("""
        local msg = ...
        local root = msg:mime()
        local first = root.child
        local names = { first:content_type().subtype, first.next:content_type().subtype,
                        tostring(first.prev), tostring(first.next.next) }
        local box = msg:makeContainer("multipart/alternative")
        box:addLastChild(msg:makePart("text/plain", "inner text\\r\\n", {["X-Made"] = "1"}))
        root:addLastChild(box)
        local replaced = root.child.next:raw_replace("second", "2nd")
        return table.concat(names, ","), replaced, #msg:makeBoundary() > 10""", b.msg(msg)))
    assert got == (b"plain,html,nil,nil", 1, True)
    parsed = email.message_from_bytes(msg.raw())
    parts = parsed.get_payload()
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html",
                                                     "multipart/alternative"]
    assert parts[1].get_payload() == "<p>2nd</p>"
    [inner] = parts[2].get_payload()
    assert inner["X-Made"] == "1" and inner.get_payload().strip() == "inner text"
    assert "top part" in run("local m = ... m:mime():raw_replace('a', 'b')", b.msg(msg)).error
    assert "multipart" in run("local m = ... m:makeContainer('text/plain')", b.msg(msg)).error


def test_recipient_list_replaces_the_list_keeping_dsn_parameters(rt, run):
    vctx = ValidationContext(recipients=[Recipient("a@x.example", notify="NEVER"),
                                         Recipient("b@x.example")])
    proxy = LiveBindings(rt).vctx(LiveVctx(vctx))
    got = values(run("""
        local v = ...
        local now = v:recipient_list({"c@x.example", "a@x.example"})
        return #now, now[1], now[2]""", proxy))
    assert got == (2, b"c@x.example", b"a@x.example")
    assert vctx.recipients == [Recipient("c@x.example"), Recipient("a@x.example", notify="NEVER")]
    assert "array" in run("local v = ... v:recipient_list('x')", proxy).error


def test_delivery_method_follows_the_configuration_and_mcmt_is_always_false(rt, run):
    from ecelerity.config.loader import load_config_text
    rt.config = load_config_text('domain "lmtp.example" { delivery_method = LMTP }\n'
                                 'binding "smtp-out" { delivery_method = SMTP }\n')
    code = "local m = ... return m:get_delivery_method(), m:is_mcmt()"
    vctx, msg, b = _msg(rt)
    assert values(run(code, b.msg(msg))) == (b"esmtp", False)  # the default: our SMTP delivery
    msg.recipient = Recipient("x@lmtp.example")
    assert values(run(code, b.msg(msg))) == (b"lmtp", False)  # by routing domain
    msg.recipient = None
    vctx.set_binding("smtp-out")
    assert values(run(code, b.msg(msg))) == (b"smtp", False)  # by the message's binding
    rt.config = None  # offline: no configuration, the default
    assert values(run(code, b.msg(msg))) == (b"esmtp", False)
