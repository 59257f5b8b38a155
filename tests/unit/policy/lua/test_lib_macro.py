"""msys.expandMacro against the current call's vctx and message."""
from ecelerity.policy.lua import CallContext
from ecelerity.policy.lua.bindings import OfflineMessage, OfflineVctx


def test_expand_macros_from_context(rt):
    vctx = OfflineVctx(conn={"ehlo_string": "mx.example"}, mess={"mailfrom_domain": "b.example"})
    msg = OfflineMessage(b"Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nx", mailfrom="a@b.example",
                         rcptto="c@d.example", vctx=vctx)
    env = rt.load_source("function f(s) return msys.expandMacro(s) end", "macro")
    result = rt.call(env[b"f"], b"%{vctx_conn:ehlo_string} %{vctx_mess:mailfrom_domain} "
                     b"%{header:subject} %{mailfrom} %{rcptto} 100%% %{unknown:x}.",
                     context=CallContext(vctx=vctx, msg=msg))
    assert result.values == ("mx.example b.example café a@b.example c@d.example 100% .".encode(),)
    assert rt.call(env[b"f"], b"%{vctx_conn:ehlo_string}").values == (b"",)
