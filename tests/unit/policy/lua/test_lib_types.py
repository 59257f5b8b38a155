"""msys.type, msys.cast, msys.dumper.Dumper."""
from ecelerity.policy.lua.bindings import LuaBindings, OfflineVctx

from .conftest import values


def test_type_and_cast(rt, run):
    proxy = LuaBindings(rt).vctx(OfflineVctx())
    got = values(run("local v = ... return msys.type(v), msys.type({}), msys.type('s'), "
                     "msys.type(1), msys.cast(v, 'validate_context') == v, msys.cast(v, 'ec_message')",
                     proxy))
    assert got == (b"validate_context", b"table", b"string", b"number", True, None)


def test_dumper(run):
    got = values(run("local t = {1, 'two', x = {y = true}} t.self = t return msys.dumper.Dumper(t)"))
    text = got[0].decode()
    assert '[1] = 1' in text and '[2] = "two"' in text and "y = true" in text
    assert "self = <cycle>" in text
