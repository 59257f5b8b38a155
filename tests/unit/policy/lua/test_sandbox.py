"""Sandbox escape attempts: each one stopped with a clear error, runtime still usable."""
from __future__ import annotations

import pytest

from ecelerity.policy.lua import Limits, LuaRuntime, available_engines

from .conftest import values


def still_works(run) -> None:
    result = run("return 40 + 2")
    assert result.ok and result.values == (42,)


@pytest.mark.parametrize("code, expected", [
    ("return os.execute('true')", "attempt to call"),
    ("return io.popen('id')", "attempt to index"),
    ("return io.open('/etc/passwd')", "attempt to index"),
    ("return debug.getinfo(1)", "attempt to index"),
    ("return string.dump(function() end)", "attempt to call"),
    ("return require('os')", "not found"),
    ("return require('io')", "not found"),
    ("return package.loadlib('x', 'y')", "attempt to index"),
    ("return getfenv(0)", "attempt to call"),
    ("return collectgarbage('stop')", "not allowed"),
    ("return python.eval('1')", "attempt to index"),
    ("return dofile('/etc/passwd')", "outside"),
    ("return msys.readfile('/etc/passwd') or error(select(2, msys.readfile('/etc/passwd')))",
     "outside"),
])
def test_escape_attempts_fail_with_clear_error(run, code, expected):
    result = run(code)
    assert not result.ok
    assert expected in result.error
    still_works(run)


def test_python_objects_expose_no_attributes(run):
    result = run("local obj = ... return obj.__class__", object())
    assert not result.ok and "not reachable from policy scripts" in result.error
    still_works(run)


def test_os_keeps_only_harmless_functions(run):
    result = run("local n = {} for k in pairs(os) do n[#n + 1] = k end table.sort(n) "
                 "return table.concat(n, ',')")
    assert result.ok and result.values == (b"clock,date,difftime,time",)


def test_binary_chunk_refused_by_load(run):
    bytecode = b"\x1bLua" + bytes(range(40))
    result = run("local f, err = load(...) return f, err", bytecode)
    assert not result.ok and "binary (precompiled) chunks are not allowed" in result.error
    result = run("return load('return 1', 'x', 'b')")
    assert result.ok and result.values[0] is None and b"only text" in result.values[1]
    assert run("return load('return 7')()").values == (7,)


def test_infinite_loop_stopped_by_instruction_budget(run, rt):
    result = run("while true do end")
    assert not result.ok and "instruction budget exceeded" in result.error
    assert any("stack traceback" in text for _, text in rt.logged)
    still_works(run)


def test_pcall_cannot_swallow_the_budget(run):
    result = run("while true do pcall(function() while true do end end) end")
    assert not result.ok and "instruction budget exceeded" in result.error
    still_works(run)


def test_loop_inside_script_coroutine_stopped(run):
    result = run("local co = coroutine.create(function() while true do end end) "
                 "local ok, err = coroutine.resume(co) error(err, 0)")
    assert not result.ok and "instruction budget exceeded" in result.error
    still_works(run)


def test_memory_bomb_stopped(run):
    result = run("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1e6) .. i end")
    assert not result.ok and "memory limit exceeded" in result.error
    still_works(run)


def test_huge_string_rep_refused(run):
    result = run("local s = ('x'):rep(2^40) return #s")
    assert not result.ok and "too large" in result.error
    result = run("local t = {} local s = ('x'):rep(2^20) for i = 1, 100 do t[i] = s end "
                 "return #table.concat(t)")
    assert not result.ok and "too large" in result.error
    still_works(run)


def test_deep_recursion_stopped(run):
    result = run("local function f(n) return 1 + f(n + 1) end return f(1)")
    assert not result.ok and ("stack overflow" in result.error or "budget" in result.error)
    still_works(run)


def test_string_metatable_locked(run):
    assert run("return getmetatable('')").values == (b"locked",)


def test_globals_of_one_script_do_not_leak_into_another(rt):
    rt.load_source("shared_name = 'first'", "first")
    env = rt.load_source("seen = shared_name", "second")
    assert env[b"seen"] is None


@pytest.mark.skipif("lua54" not in available_engines(), reason="Lua 5.4 not in lupa")
def test_small_memory_cap_is_exact_on_lua54():
    runtime = LuaRuntime("lua54", limits=Limits(memory_bytes=8 * 1024 * 1024))
    chunk = runtime.sandbox.load_in(runtime.sandbox.new_env(b"t"),
                                    b"local t = {} for i = 1, 1e7 do t[i] = {i} end", b"=bomb")
    result = runtime.call(chunk)
    assert not result.ok and "memory limit exceeded" in result.error
    assert runtime.call(runtime.sandbox.load_in(runtime.sandbox.new_env(b"t"), b"return 1",
                                                b"=ok")).values == (1,)


def test_a_failing_proxy_method_is_a_plain_error_naming_it(rt, run):
    """Guarded methods: a Python exception reaches the script as a string naming
    class:method (never a Python object, even through pcall), at the call site."""
    from ecelerity.policy.lua.bindings import LuaBindings, OfflineVctx
    vctx = LuaBindings(rt).vctx(OfflineVctx())
    got = run("local v = ... local ok, err = pcall(v.get, v, 'nope', 'k') "
              "return ok, type(err), err", vctx)
    assert got.values[:2] == (False, b"string")
    assert b"validate_context:get: vctx type must be VCTX_CONN or VCTX_MESS" in got.values[2]
    failed = run("local v = ...\nv:get('nope', 'k')", vctx)
    assert "test:2:" in failed.error and "validate_context:get" in failed.error


def test_held_numbers_resolve_until_released(rt, run):
    from ecelerity.policy.lua.bindings import LuaBindings, OfflineVctx
    number = rt.sandbox.hold(OfflineVctx(conn={"peer_ip": "192.0.2.9"}))
    proxy = LuaBindings(rt).vctx(number)
    assert values(run("local v = ... return v:get('conn', 'peer_ip')", proxy)) == (b"192.0.2.9",)
    rt.sandbox.release(number)
    assert "the object is gone" in run("local v = ... return v:get('conn', 'peer_ip')", proxy).error
