"""The datasource registry, query cache and connection pools (Momentum's ds_core).

modules/datasource.py registers one Datasource per ``Datasource "name" { }`` stanza
(``register`` at load, ``unregister`` at unload/reload); policy code calls
``query(name, text, params)`` / ``execute(...)``. A query is answered from the
datasource's cache when the same (text, params) was answered less than
``cache_life`` seconds ago (LRU, at most ``cache_size`` entries; ``no_cache`` or a
per-call ``nocache`` skips it; ``execute`` never caches). Otherwise a connection is
taken from the datasource's bounded pool (at most ``max_connections``; the ``uri``
list is tried in order, so later URIs are fail-overs), and the driver call runs in
gevent's OS thread pool under ``timeout`` seconds: only the calling greenlet waits,
never the hub. Every failure (server down, bad SQL, timeout) is a DatasourceError
naming the datasource and the driver's message; the connection involved is dropped.
Never raises anything else at callers, never logs passwords.
"""
from __future__ import annotations

import importlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.lock

from .uri import DriverUri

DRIVER_MODULES = {"sqlite": "driver_sqlite", "pgsql": "driver_pgsql", "mysql": "driver_mysql",
                  "ldap": "driver_ldap"}


class DatasourceError(Exception):
    """A query that could not be answered; str() is ``datasource 'x': why``."""


@dataclass
class Result:
    """Rows of one query: ``columns`` in query order, ``rows`` as lists of cells.
    A cell is None (NULL), a string, or (LDAP multi-valued attributes) a list."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    rowcount: int = 0

    def row_dict(self, index: int = 0) -> dict[str, Any] | None:
        if index >= len(self.rows):
            return None
        return dict(zip(self.columns, self.rows[index], strict=False))


@dataclass
class DatasourceSettings:
    name: str
    uris: list[DriverUri]
    cache_size: int = 1000
    cache_life: float = 3600.0
    max_rows: int = 100
    no_cache: bool = False
    max_connections: int = 4
    timeout: float = 10.0


@dataclass
class Stats:
    queries: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    errors: int = 0
    connects: int = 0


class QueryCache:
    """LRU of (kind, text, params) -> (expires_at, Result)."""

    def __init__(self, size: int, life: float) -> None:
        self.size, self.life = size, life
        self.entries: OrderedDict[Any, tuple[float, Result]] = OrderedDict()

    def get(self, key: Any) -> Result | None:
        found = self.entries.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return found[1]

    def put(self, key: Any, result: Result) -> None:
        if self.size <= 0 or self.life <= 0:
            return
        self.entries[key] = (time.monotonic() + self.life, result)
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def clear(self) -> int:
        count = len(self.entries)
        self.entries.clear()
        return count


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


class Datasource:
    """One configured datasource: settings, cache, pool of idle connections."""

    def __init__(self, settings: DatasourceSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.cache = QueryCache(settings.cache_size, settings.cache_life)
        self.stats = Stats()
        self._slots = gevent.lock.BoundedSemaphore(max(1, settings.max_connections))
        self._idle: list[tuple[Any, Any]] = []  # (driver module, connection)
        self._closed = False

    # -- connections ---------------------------------------------------------------
    def _connect(self) -> tuple[Any, Any]:
        problems = []
        for uri in self.settings.uris:
            driver = importlib.import_module(f"{__package__}.{DRIVER_MODULES[uri.driver]}")
            try:
                conn = _in_thread(self.settings.timeout, driver.connect, uri.settings,
                                  self.settings.timeout)
            except Exception as exc:  # noqa: BLE001 - next URI, then report them all
                problems.append(f"{uri.redacted()}: {_why(exc)}")
                continue
            self.stats.connects += 1
            return driver, conn
        raise DatasourceError(f"datasource {self.name!r}: cannot connect: " + "; ".join(problems))

    def _release(self, driver: Any, conn: Any, healthy: bool) -> None:
        if healthy and not self._closed:
            self._idle.append((driver, conn))
        else:
            _close_quietly(driver, conn)

    def run(self, text: str, params: Any, *, fetch: bool, nocache: bool = False) -> Result:
        self.stats.queries += 1
        use_cache = fetch and not nocache and not self.settings.no_cache
        key = (text, _freeze(params)) if use_cache else None
        if use_cache:
            cached = self.cache.get(key)
            if cached is not None:
                self.stats.cache_hits += 1
                return cached
            self.stats.cache_misses += 1
        if not self._slots.acquire(timeout=self.settings.timeout):
            self.stats.errors += 1
            raise DatasourceError(f"datasource {self.name!r}: no free connection within "
                                  f"{self.settings.timeout:g}s (max_connections "
                                  f"{self.settings.max_connections})")
        try:
            result = self._run_on_connection(text, params, fetch)
        finally:
            self._slots.release()
        if use_cache:
            self.cache.put(key, result)
        return result

    def _run_on_connection(self, text: str, params: Any, fetch: bool) -> Result:
        # A pooled connection may have died while idle (server restart): a read query
        # that fails on one is retried once on a fresh connection.
        # (a statement is never re-sent: it may have run before the connection died)
        while self._idle:
            driver, conn = self._idle.pop()
            try:
                return self._run_on(driver, conn, text, params, fetch, retry_ok=fetch)
            except _StaleConnection:
                continue
        try:
            driver, conn = self._connect()
        except DatasourceError:
            self.stats.errors += 1
            raise
        return self._run_on(driver, conn, text, params, fetch, retry_ok=False)

    def _run_on(self, driver: Any, conn: Any, text: str, params: Any, fetch: bool, *,
                retry_ok: bool) -> Result:
        healthy = False
        try:
            result = _in_thread(self.settings.timeout, driver.run, conn, text, params,
                                self.settings.max_rows, fetch)
            healthy = True
            return result
        except Exception as exc:  # noqa: BLE001 - any driver failure is the query's error
            if retry_ok and not isinstance(exc, TimeoutError) and getattr(
                    driver, "connection_lost", lambda c, e: False)(conn, exc):
                raise _StaleConnection() from None
            self.stats.errors += 1
            if isinstance(exc, TimeoutError) and hasattr(driver, "interrupt"):
                _close_quietly(driver, conn, driver.interrupt)  # stop the abandoned query
            healthy = not isinstance(exc, TimeoutError) and bool(
                getattr(driver, "still_usable", lambda c, e: False)(conn, exc))
            raise DatasourceError(f"datasource {self.name!r}: {_why(exc)}") from None
        finally:
            self._release(driver, conn, healthy)

    def flush(self) -> int:
        return self.cache.clear()

    def close(self) -> None:
        self._closed = True
        while self._idle:
            _close_quietly(*self._idle.pop())


class _StaleConnection(Exception):
    """An idle pooled connection turned out dead; the query is retried on a new one."""


def _why(exc: BaseException) -> str:
    if isinstance(exc, gevent.Timeout):
        return "timed out"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _in_thread(timeout: float, function: Any, *args: Any) -> Any:
    """Run a blocking driver call in the hub's thread pool, waiting at most ``timeout``."""
    with gevent.Timeout(timeout, TimeoutError(f"timed out after {timeout:g}s")):
        failed, value = gevent.get_hub().threadpool.apply(_captured, (function, args))
    if failed:
        raise value
    return value


def _captured(function: Any, args: tuple) -> tuple[bool, Any]:
    """(False, result) or (True, exception): gevent would print a raised one to stderr."""
    try:
        return False, function(*args)
    except Exception as exc:  # noqa: BLE001 - handed back to the waiting greenlet
        return True, exc


def _close_quietly(driver: Any, conn: Any, how: Any = None) -> None:
    try:
        gevent.get_hub().threadpool.spawn(how or driver.close, conn)
    except Exception:  # noqa: BLE001 - closing a dead connection may fail; nothing to do
        pass


# -- the registry ----------------------------------------------------------------------
_REGISTRY: dict[str, Datasource] = {}


def register(settings: DatasourceSettings) -> Datasource:
    """Make ``settings.name`` answer queries (replacing, and closing, an older one)."""
    old = _REGISTRY.pop(settings.name.lower(), None)
    if old is not None:
        old.close()
    source = _REGISTRY[settings.name.lower()] = Datasource(settings)
    return source


def unregister(source: Datasource) -> None:
    if _REGISTRY.get(source.name.lower()) is source:
        del _REGISTRY[source.name.lower()]
    source.close()


def get(name: str) -> Datasource:
    found = _REGISTRY.get(str(name).lower())
    if found is None:
        known = ", ".join(sorted(s.name for s in _REGISTRY.values())) or "none configured"
        raise DatasourceError(f"no datasource named {name!r} (known: {known})")
    return found


def all_datasources() -> list[Datasource]:
    return sorted(_REGISTRY.values(), key=lambda s: s.name.lower())


def query(name: str, text: str, params: Any = None, *, nocache: bool = False) -> Result:
    """Rows of a query (cached as configured); DatasourceError on any failure."""
    return get(name).run(text, params, fetch=True, nocache=nocache)


def execute(name: str, text: str, params: Any = None) -> Result:
    """Run a statement that returns no rows (committed); never cached."""
    return get(name).run(text, params, fetch=False, nocache=True)
