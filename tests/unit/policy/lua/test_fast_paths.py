"""fast_paths.py: the one-frame proxy methods answer exactly as the guarded ones.

Each case runs the same Lua expression twice on one live session -- through the
proxies as built (fast path in front) and through proxies of a class made from the
same methods with the fast path switched off -- and compares values and errors."""
from __future__ import annotations

import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.policy.lua import fast_paths
from ecelerity.policy.lua.bindings_real import LiveMethods, LiveVctx
from ecelerity.policy.lua.lib_inject import bindings_of
from ecelerity.policy.lua.live_message import LiveMessage
from ecelerity.policy.lua.runtime import CallContext
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

RAW = (b"From: a@b.example\r\nSubject: =?utf-8?q?R=C3=A9union?=\r\nX-Two: 1\r\n"
       b"X-Two: 2\r\n\r\nbody\r\n")
EXPRESSIONS = [
    'return vctx:get(msys.core.VCTX_CONN, "peer_ip")',
    'return vctx:get(msys.core.VCTX_MESS, "absent")',
    'return vctx:get(msys.core.VCTX_CONN, 5)',
    'return vctx:get("nonsense", "peer_ip")',
    'return vctx:get(msys.core.VCTX_CONN)',
    'return vctx:get(msys.core.VCTX_CONN, "number")',
    'vctx:set(msys.core.VCTX_MESS, "k", "v") return vctx:get(msys.core.VCTX_MESS, "k")',
    'vctx:set(msys.core.VCTX_MESS, "k", 7) return vctx:get(msys.core.VCTX_MESS, "k")',
    'vctx:set(msys.core.VCTX_MESS, "k") return vctx:get(msys.core.VCTX_MESS, "k")',
    'return vctx:set("nonsense", "k", "v")',
    'return msg:header("Subject")[1]',
    'local h = msg:header("X-Two") return #h, h[1], h[2]',
    'return #msg:header("Absent")',
    'return #msg:header(42)',
    'return msg:header()',
    'msg:header("X-New", "added") return msg:header("x-new")[1]',
]


def _slow_twin(rt, class_name: bytes, methods: dict):
    """A proxy maker over the same methods, every one through guard_method only."""
    plain = {name: (lambda *a, _m=method: _m(*a)) for name, method in methods.items()}
    return rt.sandbox.make_class(class_name, rt.table(plain))


def _run(rt, code: str, make_vctx, make_msg):
    vctx = ValidationContext(conn={"peer_ip": "198.51.100.7", "number": 12})
    live = LiveVctx(vctx)
    inbound = InboundMessage(Envelope(mail_from="a@b.example", recipients=[Recipient("c@d.example")]),
                             "00/00-1-A", split_message(RAW))
    msg = LiveMessage(vctx, inbound, None, phase="data")
    numbers = [rt.sandbox.hold(live), rt.sandbox.hold(msg)]
    try:
        env = rt.sandbox.new_env(b"fast")
        chunk = rt.sandbox.load_in(env, f"local vctx, msg = ...\n{code}".encode(), b"=fast")
        result = rt.call(chunk, make_vctx(numbers[0]), make_msg(numbers[1]),
                         context=CallContext(vctx=vctx, msg=msg))
        return result.values, result.error, dict(vctx.mess)
    finally:
        for number in numbers:
            rt.sandbox.release(number)


@pytest.mark.parametrize("code", EXPRESSIONS)
def test_fast_and_guarded_paths_agree(rt, code):
    bindings = bindings_of(rt)
    methods = LiveMethods(rt)
    slow_vctx = _slow_twin(rt, b"validate_context_slow", methods.vctx_table())
    slow_msg = _slow_twin(rt, b"ec_message_slow", methods.msg_table())
    fast = _run(rt, code, bindings.vctx, bindings.msg)
    slow = _run(rt, code, slow_vctx, slow_msg)
    strip = lambda got: (got[0], got[1] and got[1].replace("_slow", ""), got[2])  # noqa: E731
    assert strip(fast) == strip(slow)


def test_the_hot_methods_have_fast_paths_in_front(rt):
    assert LiveMethods._live_get.fast_path is fast_paths.vctx_get
    assert LiveMethods._live_set.fast_path is fast_paths.vctx_set
    assert LiveMethods._header.fast_path is fast_paths.msg_header
    values, error, _mess = _run(rt, 'return vctx:get(msys.core.VCTX_CONN, "peer_ip"), '
                                'msg:header("Subject")[1]', bindings_of(rt).vctx,
                                bindings_of(rt).msg)
    assert error is None and values == (b"198.51.100.7", "Réunion".encode())


def test_a_released_number_is_an_error_on_the_fast_path_too(rt):
    bindings = bindings_of(rt)
    vctx = ValidationContext(conn={"peer_ip": "198.51.100.7"})
    number = rt.sandbox.hold(LiveVctx(vctx))
    proxy = bindings.vctx(number)
    rt.sandbox.release(number)
    env = rt.sandbox.new_env(b"gone")
    chunk = rt.sandbox.load_in(env, b"local vctx = ... return vctx:get('conn', 'peer_ip')", b"=gone")
    result = rt.call(chunk, proxy)
    assert not result.ok and "validate_context:get: the object is gone" in result.error


LIBRARY_EXPRESSIONS = [
    'local m = msys.pcre.match("MAIL FROM:<a@b.example>", "@([^>]+)>") return m[0], m[1]',
    'return msys.pcre.match("RCPT TO:<x@blocked.example>", "^rcpt to:<[^@]+@BLOCKED", "i")[0]',
    'return msys.pcre.match("abc", "z")',
    'return msys.pcre.match("abc", "(?<first>a)(b)").first',
    'return msys.pcre.match(12345, "3")[0]',
    'return msys.pcre.match("abc", "(")',
    'return msys.pcre.match("abc", "a", "q")',
    'return msys.pcre.match("abc")',
    'return msys.cidr.query("blocked", "192.0.2.9"), msys.cidr.query("blocked", "10.1.2.3")',
    'return msys.cidr.query("blocked", "198.51.100.7"), msys.cidr.query("nope", "192.0.2.9")',
    'return msys.cidr.query("blocked", "not an ip"), msys.cidr.query("blocked", "[192.0.2.1]")',
    'return msys.cidr.query("blocked")',
    'return msys.cidr.query("blocked", 5)',
]


def _library_run(engine: str, code: str):
    from ecelerity.policy.lua import LuaRuntime
    runtime = LuaRuntime(engine)
    env = runtime.sandbox.new_env(b"lib")
    setup = b'msys.cidr.define("blocked", {"192.0.2.0/24", ["10.0.0.0/8"] = "ten"}) '
    chunk = runtime.sandbox.load_in(env, setup + code.encode(), b"=lib")
    result = runtime.call(chunk)
    return result.values, result.error


@pytest.mark.parametrize("code", LIBRARY_EXPRESSIONS)
def test_library_fast_paths_agree_with_the_wrapped_functions(rt, code, monkeypatch):
    from ecelerity.policy.lua import lib_cidr, lib_pcre
    fast = _library_run(rt.engine, code)
    monkeypatch.delattr(lib_pcre.match, "fast_path")
    monkeypatch.delattr(lib_cidr.query, "fast_path")
    assert _library_run(rt.engine, code) == fast
