"""msys.lock/unlock, thread.mutex, msys.runInPool and msys.threadpool.*: on greenlets.

Installed by libraries.py. Momentum runs Lua on OS threads; here every session is a
greenlet, so these are greenlet primitives (gevent) and never block the hub:
  msys.lock(name) -> true: waits (this greenlet only) for the named lock; re-entrant
  msys.unlock(name) -> true; unlocking a lock this greenlet does not hold is an error
  thread.mutex() -> m; m:lock(), m:unlock(), m:trylock() -> bool
  msys.runInPool(pool, fn [, nowait]) -> fn's results: fn runs as a fresh call (own
      budget) in a greenlet of the named pool, whose size is the ``concurrency`` of the
      ``ThreadPool "pool" {}`` stanza (default 4); the caller waits for it unless
      ``nowait`` is true (then it returns true at once; errors go to the paniclog).
  msys.threadpool.count() -> pools in use; msys.threadpool.find(name|id) -> id|name;
  msys.threadpool.stat(name) -> {name, id, concurrency, running, waiting, completed}
  msys.asyncOk() -> true (any call may suspend its own greenlet)
Blocking Python calls made for scripts (curl) use ``run_blocking``: gevent's OS
thread pool, so only the calling greenlet waits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gevent
import gevent.lock
import gevent.pool

DEFAULT_CONCURRENCY = 4


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def run_blocking(function: Callable, *args: Any) -> Any:
    """Run a blocking call in gevent's OS thread pool; only this greenlet waits."""
    return gevent.get_hub().threadpool.apply(function, args)


# -- locks ---------------------------------------------------------------------------
def _locks(runtime: Any) -> dict[str, gevent.lock.RLock]:
    return runtime.__dict__.setdefault("_named_locks", {})


def lock(runtime: Any, name: Any) -> bool:
    _locks(runtime).setdefault(_text(name), gevent.lock.RLock()).acquire()
    return True


def unlock(runtime: Any, name: Any) -> bool:
    found = _locks(runtime).get(_text(name))
    if found is None or not found._is_owned():
        raise RuntimeError(f"lock {_text(name)!r} is not held by this session")
    found.release()
    return True


def _mutex_class(runtime: Any) -> Any:
    found = runtime.__dict__.get("_mutex_class")
    if found is None:
        def release(mutex: gevent.lock.RLock) -> bool:
            if not mutex._is_owned():
                raise RuntimeError("mutex:unlock: this session does not hold the mutex")
            mutex.release()
            return True
        found = runtime.__dict__["_mutex_class"] = runtime.sandbox.make_class(
            b"thread.mutex", runtime.table({
                "lock": lambda m: m.acquire() and True, "unlock": release,
                "trylock": lambda m: bool(m.acquire(blocking=False))}))
    return found


def new_mutex(runtime: Any) -> Any:
    return _mutex_class(runtime)(gevent.lock.RLock())


# -- pools ---------------------------------------------------------------------------
@dataclass
class NamedPool:
    name: str
    id: int
    pool: gevent.pool.Pool
    concurrency: int
    waiting: int = 0
    completed: int = 0


def _pools(runtime: Any) -> dict[str, NamedPool]:
    return runtime.__dict__.setdefault("_pools", {})


def _concurrency(runtime: Any, name: str) -> int:
    config = getattr(runtime, "config", None)
    try:
        value = int(config.scope_get([("threadpool", name)], "concurrency"))
    except (AttributeError, KeyError, TypeError, ValueError):
        return DEFAULT_CONCURRENCY
    return value if value > 0 else DEFAULT_CONCURRENCY


def pool_named(runtime: Any, name: str) -> NamedPool:
    pools = _pools(runtime)
    if name not in pools:
        size = _concurrency(runtime, name)
        pools[name] = NamedPool(name, len(pools) + 1, gevent.pool.Pool(size), size)
    return pools[name]


def run_in_pool(runtime: Any, name: Any, function: Any, nowait: Any = None) -> Any:
    if type(function).__name__ != "_LuaFunction":
        raise TypeError("msys.runInPool(pool, function [, nowait])")
    named = pool_named(runtime, _text(name))
    function = runtime.sandbox.anchor(function)  # runs after this coroutine may be gone

    def job() -> Any:
        named.waiting -= 1
        try:
            return runtime.call(function, what=f"runInPool {named.name}")
        finally:
            named.completed += 1
    named.waiting += 1
    greenlet = named.pool.spawn(job)
    if nowait:
        return True
    result = greenlet.get()
    if not result.ok:
        raise RuntimeError(f"job failed in pool {named.name}: {result.error}")
    return result.values


def threadpool_count(runtime: Any) -> int:
    return len(_pools(runtime))


def threadpool_find(runtime: Any, key: Any) -> Any:
    for named in _pools(runtime).values():
        if isinstance(key, (int, float)) and named.id == int(key):
            return named.name.encode()
        if isinstance(key, bytes) and named.name == _text(key):
            return named.id
    return None


def threadpool_stat(runtime: Any, name: Any) -> Any:
    named = _pools(runtime).get(_text(name))
    if named is None:
        return None
    running = len(named.pool)
    return runtime.table({"name": named.name, "id": named.id, "concurrency": named.concurrency,
                          "running": running, "waiting": max(0, named.waiting),
                          "completed": named.completed})


def async_ok(runtime: Any) -> bool:
    """Every call into Lua runs in its own coroutine on a greenlet: waiting is always safe."""
    return True


FUNCTIONS = {"msys.asyncOk": async_ok, "msys.lock": lock, "msys.unlock": unlock, "thread.mutex": new_mutex,
             "msys.runInPool": run_in_pool, "msys.threadpool.count": threadpool_count,
             "msys.threadpool.find": threadpool_find, "msys.threadpool.stat": threadpool_stat}
