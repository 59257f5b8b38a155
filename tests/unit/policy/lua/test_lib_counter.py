"""msys.counter.*."""
from ecelerity.policy.lua import LuaRuntime

from .conftest import values


def test_counters(run):
    got = values(run("""
        local c = msys.counter.open('rejects')
        msys.counter.inc(c) msys.counter.add(c, 5)
        local v = msys.counter.read('rejects')
        msys.counter.reset(c)
        return v, msys.counter.read(c), msys.counter.read('never')"""))
    assert got == (6, 0, 0)
    assert values(run("return msys.counter.read('rejects')")) == (0,)
    assert values(run("msys.counter.inc('x') msys.counter.unlink('x') return msys.counter.read('x')")) == (0,)


def test_counts_are_shared_by_scripts_and_private_to_a_runtime(rt, run):
    assert values(run("return msys.counter.inc('shared'), msys.counter.inc('shared')")) == (1, 2)
    assert values(run("return msys.counter.read('shared')")) == (2,)  # another script
    other = LuaRuntime(rt.engine)
    env = other.sandbox.new_env(b"other")
    chunk = other.sandbox.load_in(env, b"return msys.counter.read('shared')", b"=other")
    assert other.call(chunk).values == (0,)


def test_add_takes_numbers_and_numeric_strings_truncated_toward_zero(run):
    got = values(run("""
        return msys.counter.add('n', 2.7), msys.counter.add('n', '-1.5'), msys.counter.add('n'),
               msys.counter.add('n', -3)"""))
    assert got == (2, 1, 2, -1)
    assert all(type(v) is int for v in got)


def test_bad_arguments_are_lua_errors_naming_the_function(run):
    result = run("return msys.counter.inc(5)")
    assert not result.ok and "msys.counter.inc: bad arguments" in result.error
    result = run("msys.counter.open('c') return msys.counter.add('c', 'many')")
    assert not result.ok and "msys.counter.add: not a number: many" in result.error
    # pcall sees a plain string error, and the count is unchanged
    assert values(run("local ok, e = pcall(msys.counter.add, 'c', {}) "
                      "return ok, msys.counter.read('c')")) == (False, 0)
