"""msys.db.query / fetch_row / execute: datasource queries from Lua (Momentum's msys.db).

Installed by libraries.py; ``require('msys.db')`` and ``require('msys.datasource')``
are accepted as in Momentum. Each call goes through ecelerity.datasource.core (cache,
pool, driver in gevent's thread pool): only the calling session's greenlet waits.
  msys.db.query(cachename, query [, params [, options]]) -> rowiter: ``for row in
      rowiter do ... end``, each row a table keyed by column name (a multi-valued LDAP
      attribute is an array); on failure an error, or nil, errmsg when
      ``options.raise_error == false``.
  msys.db.fetch_row(...) -> the first row as a table, nil when there is none (or
      nil, errmsg on failure without raise_error).
  msys.db.execute(...) -> true (or false, errmsg on failure without raise_error).
``params``: an array for ``?`` placeholders, a table with string keys for ``:name``
and ``$name``. ``options.nocache = true`` bypasses the cache. Errors name the
datasource and the driver's message. Never blocks the hub, never crashes the script
runner: every failure is a Lua error or an (nil, errmsg) pair.
"""
from __future__ import annotations

from typing import Any

from ...datasource import core


def _text(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value


def _params(runtime: Any, params: Any) -> Any:
    plain = runtime.from_lua(params) if params is not None else None
    if isinstance(plain, dict):
        return {(_text(k) if isinstance(k, (bytes, bytearray)) else k): _text(v)
                for k, v in plain.items()}
    if isinstance(plain, list):
        return [_text(v) for v in plain]
    if plain is None:
        return None
    raise TypeError("queryparams must be a table")


def _options(runtime: Any, options: Any) -> tuple[bool, bool]:
    plain = runtime.from_lua(options) if options is not None else {}
    if not isinstance(plain, dict):
        plain = {}
    flags = {_text(k): v for k, v in plain.items()}
    return bool(flags.get("nocache", False)), flags.get("raise_error", True) is not False


def _run(runtime: Any, name: Any, query: Any, params: Any, options: Any, fetch: bool
         ) -> tuple[core.Result | None, str | None, bool]:
    nocache, raise_error = _options(runtime, options)
    try:
        bound = _params(runtime, params)
        if fetch:
            result = core.query(_text(name), _text(query), bound, nocache=nocache)
        else:
            result = core.execute(_text(name), _text(query), bound)
    except (core.DatasourceError, ValueError, TypeError) as exc:
        if raise_error:
            raise RuntimeError(str(exc)) from None
        return None, str(exc), raise_error
    return result, None, raise_error


def query(runtime: Any, name: Any, text: Any, params: Any = None, options: Any = None) -> Any:
    result, error, _ = _run(runtime, name, text, params, options, fetch=True)
    if result is None:
        return None, error.encode("utf-8", "replace")
    rows = [result.row_dict(i) for i in range(len(result.rows))]
    position = [0]
    owner = runtime  # already a weak proxy (libraries._wrap); the iterator holds no Lua object

    def next_row(*_ignored: Any) -> Any:
        if position[0] >= len(rows):
            return None
        position[0] += 1
        return owner.to_lua(rows[position[0] - 1])
    return runtime.sandbox.wrap_py(next_row)


def fetch_row(runtime: Any, name: Any, text: Any, params: Any = None, options: Any = None) -> Any:
    result, error, _ = _run(runtime, name, text, params, options, fetch=True)
    if result is None:
        return None, error.encode("utf-8", "replace")
    row = result.row_dict(0)
    return None if row is None else runtime.to_lua(row)


def execute(runtime: Any, name: Any, text: Any, params: Any = None, options: Any = None) -> Any:
    result, error, _ = _run(runtime, name, text, params, options, fetch=False)
    if result is None:
        return False, error.encode("utf-8", "replace")
    return True


FUNCTIONS = {"msys.db.query": query, "msys.db.fetch_row": fetch_row, "msys.db.execute": execute}
