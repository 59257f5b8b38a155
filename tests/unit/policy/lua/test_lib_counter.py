"""msys.counter.*."""
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
