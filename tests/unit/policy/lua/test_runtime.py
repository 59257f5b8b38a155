"""LuaRuntime: calls per greenlet, errors to the paniclog, script loading."""
from __future__ import annotations

import time

import gevent
import pytest

from ecelerity.policy.lua import LuaRuntime, ScriptError, available_engines


def test_engine_preference_and_version(rt):
    assert rt.engine in ("luajit", "lua54")
    assert ("LuaJIT" in rt.version) == (rt.engine == "luajit")
    assert LuaRuntime().engine == available_engines()[0]


def test_sleeping_calls_suspend_only_their_greenlet(rt):
    env = rt.load_source("""
        function work(n)
          local total = 0
          for i = 1, 1000 do total = total + i end
          msys.sleep(0.3)
          return total + n
        end""", "sleepy")
    started = time.monotonic()
    calls = [gevent.spawn(rt.call, env[b"work"], n) for n in range(10)]
    ticker_ran = []
    ticker = gevent.spawn(lambda: [ticker_ran.append(1) or gevent.sleep(0.01) for _ in range(10)])
    gevent.joinall(calls + [ticker], timeout=5)
    elapsed = time.monotonic() - started
    assert [c.value.values for c in calls] == [(500500 + n,) for n in range(10)]
    assert elapsed < 0.6, f"10 sleeping calls took {elapsed:.2f}s: they did not overlap"
    assert len(ticker_ran) == 10  # the hub kept running other greenlets meanwhile


def test_script_error_goes_to_paniclog_with_traceback(rt):
    env = rt.load_source("function boom()\n  local x = nil\n  return x.field\nend", "bad_script")
    result = rt.call(env[b"boom"], what="bad_script:boom")
    assert not result.ok
    assert "bad_script:3:" in result.error
    module, text = rt.logged[-1]
    assert module == "scriptlet" and text.startswith("bad_script:boom: bad_script:3:")
    assert "stack traceback" in text


def test_syntax_error_names_script_and_line(rt):
    with pytest.raises(ScriptError, match=r"broken:2:"):
        rt.load_source("local a = 1\nlocal = 2\n", "broken")


def test_library_error_is_a_catchable_lua_error(run):
    result = run("local ok, err = pcall(msys.pcre.match, 'x', '(') return ok, err")
    assert result.ok and result.values[0] is False
    assert b"msys.pcre.match: bad pattern" in result.values[1]


def test_resolve_dotted_names(rt, tmp_path):
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "ehlo_phase.lua").write_text("x = 1")
    assert rt.resolve("pol.ehlo_phase") == str(tmp_path / "pol" / "ehlo_phase.lua")
    assert rt.resolve("pol/ehlo_phase") == str(tmp_path / "pol" / "ehlo_phase.lua")
    with pytest.raises(ScriptError, match="not found"):
        rt.resolve("pol.missing")
    with pytest.raises(ScriptError, match="inside the script path"):
        rt.resolve("../etc/passwd")


def test_missing_file_is_a_script_error(rt, tmp_path):
    with pytest.raises(ScriptError, match="cannot read script"):
        rt.load_file(str(tmp_path / "nope.lua"))
