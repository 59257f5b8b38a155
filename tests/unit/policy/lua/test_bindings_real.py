"""vctx / msg / msgpart / ac proxies over the daemon's real objects, and msys.dnsLookup /
msys.registerControl (against a real dnsmasq), on every available Lua engine."""
from __future__ import annotations

import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.policy.lua.bindings_real import LiveAccept, LiveBindings, LiveMessage, LiveVctx
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message
from tests.helpers.dns_server import start_dns

from .conftest import values

RAW = (b"Subject: =?utf-8?q?caf=C3=A9?=\r\nFrom: a@b.example\r\nX-Tag: one\r\n"
       b"\r\nthe code is SECRET-42 ok\r\n")
MULTI = (b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
         b"--BB\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
         b"--BB\r\nContent-Type: text/html\r\n\r\n<p>second</p>\r\n--BB--\r\n")


def inbound(raw: bytes = RAW, trace: bytes = b"") -> InboundMessage:
    envelope = Envelope(mail_from="a@b.example", recipients=[Recipient("c@d.example")],
                        peer_ip="127.0.0.5", peer_port=4025, conn_id="7/00-1-ABC")
    message = InboundMessage(envelope, "12/00-1-DEF", split_message(raw))
    message.trace = trace
    return message


def live(rt, raw: bytes = RAW, *, phase: str = "data", recipient=None, trace: bytes = b""):
    vctx = ValidationContext(conn={"ehlo_domain": "mx.example"})
    message = inbound(raw, trace)
    msg = LiveMessage(vctx, message, recipient, phase=phase)
    b = LiveBindings(rt)
    return vctx, message, msg, b


def test_vctx_proxy_drives_the_real_validation_context(rt, run):
    vctx = ValidationContext(conn={"ehlo_domain": "mx.example"})
    proxy = LiveBindings(rt).vctx(LiveVctx(vctx))
    got = values(run("""
        local vctx = ...
        vctx:set(msys.core.VCTX_MESS, 'k', 'v')
        vctx:add_recipient('x@y.example')
        vctx:add_recipient('z@y.example')
        local removed = vctx:remove_recipient('z@y.example')
        vctx:set_code(550, '5.7.1 no thanks')
        local list = vctx:recipient_list()
        return vctx:get(msys.core.VCTX_CONN, 'ehlo_domain'), removed, #list, list[1]""", proxy))
    assert got == (b"mx.example", True, 1, b"x@y.example")
    assert vctx.mess == {"k": "v"}
    assert vctx.recipients == [Recipient("x@y.example")]  # a real Recipient, not a string
    assert (vctx.code.code, vctx.code.enhanced, vctx.code.text) == (550, "5.7.1", "no thanks")
    values(run("local v = ... v:disconnect(421, '4.7.0 go away')", proxy))
    assert vctx.disconnect_reply.code == 421
    assert "vctx type" in run("local v = ... v:get('sideways', 'k')", proxy).error


def test_header_edits_are_seen_at_once_and_committed_to_the_session_message(rt, run):
    vctx, message, msg, b = live(rt, trace=b"Received: from x by y\r\n")
    got = values(run("""
        local msg = ...
        local before = msg:header('subject')[1]
        msg:header('X-Tag', 'two')
        msg:header('X-Top', 'first', 'prepend')
        msg:header('X-Tag', 'only', 'replace')
        local tags = msg:header('X-Tag')
        local deleted = msg:header('From', '')
        return before, #tags, tags[1], deleted, #msg:header('Received'), msg:mailfrom()
    """, b.msg(msg)))
    assert got == ("café".encode(), 1, b"only", True, 1, b"a@b.example")
    assert msg.commit() is True
    assert message.trace == b""
    assert message.header_block == (b"X-Top: first\r\nReceived: from x by y\r\n"
                                    b"Subject: =?utf-8?q?caf=C3=A9?=\r\nX-Tag: only\r\n")
    assert message.body == b"the code is SECRET-42 ok\r\n"
    assert msg.commit() is False  # nothing more to write


def test_unmodified_message_is_left_byte_for_byte(rt, run):
    _, message, msg, b = live(rt)
    before = message.data()
    got = values(run("local m = ... return m:raw(), m:body(), m:get_message_size(), m:id(), "
                     "m:conn_id(), m:reception_peer('ip'), m:reception_peer('port')", b.msg(msg)))
    assert got == (RAW, b"the code is SECRET-42 ok\r\n", len(RAW), b"12/00-1-DEF", b"7/00-1-ABC",
                   b"127.0.0.5", 4025)
    assert msg.commit() is False and message.data() == before


def test_match_and_replace_forms(rt, run):
    _, message, msg, b = live(rt)
    got = values(run("""
        local m = ...
        local whole, digits = m:body_match('SECRET-([0-9]+)')
        local none = m:raw_match('NOT THERE')
        local in_headers = m:raw_match('^X-Tag: (\\\\w+)', 'm')
        local n = m:body_replace('SECRET-[0-9]+', '[redacted]')
        local t = m:text_match('redacted')
        local n2 = m:text_replace('ok', 'fine')
        return whole, digits, none, in_headers, n, t, n2, m:text()
    """, b.msg(msg)))
    assert got[:7] == (b"SECRET-42", b"42", None, b"X-Tag: one", 1, b"redacted", 1)
    assert got[7] == b"the code is [redacted] fine\r\n"
    msg.commit()
    assert b"[redacted] fine" in message.body
    assert "unknown PCRE flag" in run("local m = ... return m:body_match('x', 'q')", b.msg(msg)).error


def test_body_raw_and_text_setters(rt, run):
    _, message, msg, b = live(rt)
    values(run("local m = ... m:body('new body\\r\\n')", b.msg(msg)))
    msg.commit()
    assert message.body == b"new body\r\n"
    values(run("local m = ... m:text('caf\\195\\169 au lait')", b.msg(msg)))
    msg.commit()
    assert b"Content-Type: text/plain; charset=\"utf-8\"" in message.header_block
    values(run("local m = ... m:raw('Subject: replaced\\r\\n\\r\\nall new\\r\\n')", b.msg(msg)))
    msg.commit()
    assert message.data() == b"Subject: replaced\r\n\r\nall new\r\n"


def test_mime_tree_parts(rt, run):
    _, message, msg, b = live(rt, MULTI)
    got = values(run("""
        local m = ...
        local root = m:mime()
        local kids = root:children()
        local ct = root:content_type()
        local first = kids[1]
        local before = first:text()
        first:text('changed')
        first:header('X-Part', 'yes')
        kids[2]:insertBefore(first)          -- swap the two parts
        return ct.type, ct.subtype, ct.boundary, #kids, before, kids[2]:content_type().value,
               first:parent():content_type().value
    """, b.msg(msg)))
    assert got == (b"multipart", b"mixed", b"BB", 2, b"first part", b"text/html",
                   b"multipart/mixed")
    msg.commit()
    data = message.data()
    assert data.index(b"<p>second</p>") < data.index(b"changed")
    assert b"X-Part: yes" in data
    values(run("local m = ... local kids = m:mime():children() kids[1]:unlink()", b.msg(msg)))
    msg.commit()
    assert b"<p>second</p>" not in message.data()
    assert "expected a msgpart" in run("local m = ... m:mime():addFirstChild({})", b.msg(msg)).error


def test_envelope_rules_by_phase(rt, run):
    vctx = ValidationContext(mess={"mailfrom_localpart": "s", "mailfrom_domain": "x.example"})
    recipient = Recipient("r@d.example")
    b = LiveBindings(rt)
    before_data = b.msg(LiveMessage(vctx, None, recipient, phase="rcptto"))
    assert values(run("local m = ... return m:mailfrom(), m:rcptto(), #m:header('Subject'), m:raw()",
                      before_data)) == (b"s@x.example", b"r@d.example", 0, b"")
    assert "validate_data_spool_each_rcpt" in run("local m = ... m:rcptto('n@d.example')",
                                                  before_data).error
    assert "before the data phase" in run("local m = ... m:header('X', 'y')", before_data).error
    _, message, msg, b = live(rt, phase="data_spool_each_rcpt", recipient=recipient)
    assert values(run("local m = ... m:mailfrom('new@s.example') return m:rcptto('n@d.example')",
                      b.msg(msg))) == (b"n@d.example",)
    assert recipient.address == "n@d.example" and message.envelope.mail_from == "new@s.example"


def test_context_binding_and_code(rt, run):
    vctx, _, msg, b = live(rt, phase="set_binding")
    got = values(run("""
        local m = ...
        m:context_set(msys.core.ECMESS_CTX_MESS, 'k', 'v')
        local had = m:context_exists(msys.core.ECMESS_CTX_MESS, 'k')
        local deleted = m:context_delete(msys.core.ECMESS_CTX_MESS, 'k')
        local gone = m:context_exists(msys.core.ECMESS_CTX_MESS, 'k')
        m:binding('b1') m:binding_group('g1')
        return had, deleted, gone, m:binding(), m:binding_group(), m:context_get('conn', 'nope')
    """, b.msg(msg)))
    assert got == (True, True, False, b"b1", b"g1", b"")
    assert (vctx.binding, vctx.binding_group) == ("b1", "g1")


def test_accept_capability_edits(rt, run):
    logged: list[str] = []
    vctx = ValidationContext()
    b = LiveBindings(rt)
    ac = b.accept(LiveAccept(vctx, lambda: 3, logged.append))
    assert values(run("local ac = ... return ac:esmtp_capability_add('SIZE 1000'), "
                      "ac:esmtp_capability_remove('PIPELINING'), ac:inbound_session_count()",
                      ac)) == (True, True, 3)
    assert vctx.capability_edits == [("add", "SIZE 1000"), ("remove", "PIPELINING")]


def test_register_control_records_and_forwards(rt, run):
    registered = []
    rt.control_registrar = lambda name, function: registered.append(name)
    values(run("msys.registerControl('lua hello', function(cc) return 'hi ' .. cc.argv[2] end)"))
    assert registered == ["lua hello"] and list(rt.controls) == ["lua hello"]
    result = rt.call(rt.controls["lua hello"], rt.to_lua({"argv": ["lua hello", "bob"]}))
    assert result.values == (b"hi bob",)
    assert "must be a function" in run("msys.registerControl('x', 'nope')").error


@pytest.fixture(scope="module")
def dns():
    with start_dns(mx=[("m.test", "mx2.m.test", 20), ("m.test", "mx1.m.test", 10)],
                   hosts={"h.test": ["127.0.0.7", "127.0.0.8"]},
                   raw=[("t.test", 16, "0568656c6c6f")]) as server:
        yield server


def test_dns_lookup_against_a_real_server(rt, run, dns):
    server = f"127.0.0.1:{dns.port}".encode()
    got = values(run("""
        local server = ...
        local opts = { server = server }
        local a = msys.dnsLookup('h.test', 'A', opts)
        local mx = msys.dnsLookup('m.test', 'mx', opts)
        local mxp = msys.dnsLookup('m.test', 'MX', { server = server, priority = true })
        local txt = msys.dnsLookup('t.test', 'TXT', opts)
        local ptr = msys.dnsLookup('127.0.0.7', 'PTR', opts)
        local none, err = msys.dnsLookup('nothere.test', 'A', opts)
        table.sort(a)
        return a[1], a[2], mx[1], mx[2], mxp[1][1], mxp[1][2], txt[1], ptr[1], none, err
    """, server))
    assert got == (b"127.0.0.7", b"127.0.0.8", b"mx1.m.test", b"mx2.m.test", 10, b"mx1.m.test",
                   b"hello", b"h.test", None, b"nothere.test: NXDOMAIN")
    assert "unsupported record type" in run("return msys.dnsLookup('h.test', 'SRV')").error


@pytest.mark.parametrize("count", [0, 1, 3, 200, 201, 1000])
def test_header_values_arrive_as_an_array_however_many_there_are(rt, run, count):
    """msg:header(name) is a Lua array of every value, in order: built on the Lua side
    (sandbox.lua PY_LIST) up to 200 values, as a table from Python past that."""
    fields = b"".join(b"X-Many: value %d\r\n" % n for n in range(count))
    _vctx, _message, msg, b = live(rt, b"From: a@b.example\r\n" + fields + b"\r\nbody\r\n")
    got = values(run("""
        local msg = ...
        local many = msg:header('x-many')
        local joined = table.concat(many, ',')
        return type(many), #many, many[1], many[#many], joined""", b.msg(msg)))
    expected = [b"value %d" % n for n in range(count)]
    assert got[:2] == ("table".encode(), count)
    assert got[2:4] == ((expected[0], expected[-1]) if count else (None, None))
    assert got[4] == b",".join(expected)
