"""Fixtures for the Lua policy tests: a runtime per available engine, and a runner."""
from __future__ import annotations

import pytest

from ecelerity.policy.lua import CallResult, LuaRuntime, available_engines


@pytest.fixture(params=available_engines())
def rt(request, tmp_path) -> LuaRuntime:
    logged: list[tuple[str, str]] = []
    runtime = LuaRuntime(request.param, paniclog=lambda module, text: logged.append((module, text)),
                         script_path=[str(tmp_path)])
    runtime.logged = logged
    return runtime


@pytest.fixture
def run(rt):
    """run(code, *args) -> CallResult of a chunk compiled in a fresh sandbox env."""
    def run_chunk(code: str, *args) -> CallResult:
        env = rt.sandbox.new_env(b"test")
        chunk = rt.sandbox.load_in(env, code.encode(), b"=test")
        if isinstance(chunk, tuple):
            raise AssertionError(f"test chunk does not compile: {chunk[1]!r}")
        return rt.call(chunk, *args)
    return run_chunk


def values(result: CallResult) -> tuple:
    assert result.ok, result.error
    return result.values
