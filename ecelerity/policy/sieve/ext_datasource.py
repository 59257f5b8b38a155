"""Sieve++ datasource functions: ds_fetch, ds_fetch_hash, ds_fetch_flat, ds_execute.

Registered into registry.py (FUNCTIONS; each also usable as a command). They call
ecelerity.datasource.core (cache, pool, driver in gevent's thread pool), so only the
session's greenlet waits while a query runs, never the hub:
  ds_fetch "cache" "query" [params]       -> the first row as a string list
  ds_fetch_flat "cache" "query" [params]  -> every row, flattened (row 1 col 1, row 1
                                             col 2, row 2 col 1...), as a string list
  ds_fetch_hash "cache" "query" [params]  -> the name of a new hash holding the first
                                             row by column name (``hash_get $h "col"``);
                                             a multi-valued column is joined with ", "
  ds_execute "cache" "query" [params]     -> "true", or "false" when it failed
``params``: a string list for ``?`` markers, or the name of a hash (hash_create) for
``:name`` / ``$name`` markers. A failed query (server down, bad SQL, unknown
datasource) sets the connection variable ``datasource_error`` to the error (the
datasource's name and the driver's message) and returns an empty list / ""; a
successful one deletes that variable. Never raises for a datasource failure.
"""
from __future__ import annotations

from typing import Any, Callable

from ...datasource import core
from .ext_momentum_actions import value_fn
from .ext_momentum_data import _hashes
from .ext_momentum_throttle import as_command
from .runtime import Runtime
from .spec import Args, Spec

ERROR_VARIABLE = "datasource_error"
ValueFn = Callable[[Runtime], Any]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return ", ".join(value) if isinstance(value, list) else str(value)


def _note_error(rt: Runtime, error: str | None) -> None:
    host = rt.host
    vctx = getattr(host, "vctx", None)
    if vctx is None:
        if error is not None and host is not None:
            host.log(error)
        return
    if error is None:
        vctx.conn.pop(ERROR_VARIABLE, None)
    else:
        vctx.conn[ERROR_VARIABLE] = error


def _builder(shape: str) -> Callable[[Args, Any], ValueFn]:
    def build(args: Args, env: Any) -> ValueFn:
        name_of, query_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])
        params_arg = args.positional[2]
        params_of = env.strings(params_arg) if params_arg is not None else (lambda rt: [])

        def params(rt: Runtime) -> Any:
            given = params_of(rt)
            if len(given) == 1 and given[0] in _hashes(rt):
                return dict(_hashes(rt)[given[0]])
            return list(given)

        def run(rt: Runtime) -> Any:
            try:
                if shape == "execute":
                    core.execute(name_of(rt), query_of(rt), params(rt))
                else:
                    result = core.query(name_of(rt), query_of(rt), params(rt))
            except (core.DatasourceError, ValueError) as exc:
                _note_error(rt, str(exc))
                return "false" if shape == "execute" else "" if shape == "hash" else []
            _note_error(rt, None)
            if shape == "execute":
                return "true"
            if shape == "flat":
                cells = [_cell(v) for row in result.rows for v in row]
                return cells[:rt.limits.max_string_list]
            first = result.rows[0] if result.rows else []
            if shape == "row":
                return [_cell(v) for v in first]
            hashes = _hashes(rt)
            hash_name = f"ds_fetch_hash:{len(hashes)}:{args.loc.line}"
            hashes[hash_name] = {c: _cell(v) for c, v in zip(result.columns, first, strict=False)}
            return hash_name
        return run
    return build


def _s(shape: str) -> Spec:
    return Spec(_builder(shape), positional=("value", "value", "tail_strings"))


FUNCTIONS = {
    "ds_fetch": _s("row"),
    "ds_fetch_flat": _s("flat"),
    "ds_fetch_hash": _s("hash"),
    "ds_execute": _s("execute"),
}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()}
