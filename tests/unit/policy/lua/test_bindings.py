"""vctx / msg / ac proxies over the offline objects."""
from ecelerity.policy.lua.bindings import (LuaBindings, OfflineAccept, OfflineMessage,
                                           OfflineVctx)

from .conftest import values

RAW = (b"From: a@b.example\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nX-Tag: one\r\n"
       b"X-Tag: two\r\n\r\nHello\r\n")


def proxies(rt):
    vctx = OfflineVctx(conn={"ehlo_domain": "mx.example"})
    msg = OfflineMessage(RAW, mailfrom="a@b.example", rcptto="c@d.example", vctx=vctx)
    accept = OfflineAccept(capabilities=["PIPELINING", "8BITMIME"])
    b = LuaBindings(rt)
    return vctx, msg, accept, b.vctx(vctx), b.msg(msg), b.accept(accept)


def test_vctx_methods(rt, run):
    vctx, _, _, vproxy, _, _ = proxies(rt)
    got = values(run("""
        local vctx = ...
        vctx:set(msys.core.VCTX_MESS, 'k', 'v')
        vctx:add_recipient('x@y.example')
        vctx:set_code(451, '4.7.1 later')
        local list = vctx:recipient_list()
        return vctx:get(msys.core.VCTX_CONN, 'ehlo_domain'), vctx:get(msys.core.VCTX_MESS, 'nope'),
               #list, list[1]""", vproxy))
    assert got == (b"mx.example", None, 1, b"x@y.example")
    assert vctx.mess == {"k": "v"} and vctx.code == (451, "4.7.1 later")
    assert "':'" in run("local v = ... return v.get(nil, 'conn', 'x')", vproxy).error


def test_msg_headers_and_envelope(rt, run):
    _, msg, _, _, mproxy, _ = proxies(rt)
    got = values(run("""
        local msg = ...
        local subj = msg:header('subject')
        local tags = msg:header('X-Tag')
        msg:header('X-Tag', 'three', 'replace')
        msg:header('X-First', 'top', 'prepend')
        msg:header('X-Many', {'1', '2'})
        local deleted = msg:header('From', '')
        msg:rcptto('new@d.example')
        return subj[1], #tags, tags[2], deleted, msg:mailfrom(), msg:body(), msg:get_message_size()
    """, mproxy))
    assert got[:6] == ("café".encode(), 2, b"two", True, b"a@b.example", b"Hello\r\n")
    assert msg.raw() == (b"X-First: top\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nX-Tag: three\r\n"
                         b"X-Many: 1\r\nX-Many: 2\r\n\r\nHello\r\n")
    assert got[6] == len(msg.raw())
    assert msg.rcptto() == "new@d.example"
    assert "header mode" in run("local m = ... m:header('X', 'y', 'sideways')", mproxy).error


def test_msg_discard_code_context(rt, run):
    vctx, msg, _, _, mproxy, _ = proxies(rt)
    values(run("local m = ... m:context_set(msys.core.ECMESS_CTX_MESS, 'a', 1) m:discard('no code')",
               mproxy))
    assert msg.discarded == "550 5.7.1 [internal] discarded by policy" and vctx.mess["a"] == "1"
    assert values(run("local m = ... m:code(554, '5.7.1 no') return m:code()", mproxy)) == (
        554, b"5.7.1 no")


def test_accept_capabilities(rt, run):
    _, _, accept, _, _, aproxy = proxies(rt)
    values(run("local ac = ... ac:esmtp_capability_add('SIZE 1048576') "
               "ac:esmtp_capability_remove('pipelining')", aproxy))
    assert accept.capabilities == ["8BITMIME", "SIZE 1048576"]
