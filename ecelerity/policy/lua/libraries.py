"""Assemble the msys.* and json.* tables from the lib_*.py groups.

Called once per runtime by runtime.LuaRuntime. A group may also bring functions
written in Lua (``LUA_SOURCE``: a chunk run on the trusted state, returning name ->
function; lib_counter.py). Every Python function gets the
runtime as its first argument and is wrapped so that a Python exception
becomes a Lua error naming the function (``msys.pcre.match: bad pattern ...``),
catchable with pcall, never a crash. ``FUNCTION_NAMES`` is what
``--list-functions`` prints. Never does I/O.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

from . import (delivery_callouts, lib_address, lib_auth, lib_av, lib_cidr, lib_codecs,
               lib_config, lib_core, lib_core_extras, lib_counter, lib_curl, lib_daemon, lib_db,
               lib_dkim, lib_files, lib_httpsrv, lib_inject, lib_io, lib_json, lib_macro, lib_os,
               lib_pcre, lib_rfc3464, lib_series, lib_sync, lib_timer, lib_types, lib_xml)

# The core groups, then those of modules (httpsrv, opendkim, antivirus, datasources) and
# the core extras (registerAuth, dns_get_domain..., io_wrapper_open), msys.delivery.
GROUPS = (lib_core, lib_pcre, lib_codecs, lib_address, lib_cidr, lib_types, lib_json,
          lib_macro, lib_files, lib_counter, lib_timer, lib_config, lib_daemon, lib_inject,
          lib_xml, lib_sync, lib_series, lib_rfc3464, lib_os, lib_curl,
          lib_httpsrv, lib_dkim, lib_av, lib_db, lib_auth, lib_core_extras, lib_io,
          delivery_callouts)


def all_functions() -> dict[str, Callable]:
    merged: dict[str, Callable] = {}
    for group in GROUPS:
        merged.update(group.FUNCTIONS)
    return merged


def all_constants() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for group in GROUPS:
        merged.update(getattr(group, "CONSTANTS", {}))
    return merged


def lua_functions() -> list[str]:
    """Library functions written in Lua (a group's ``LUA_FUNCTIONS`` / ``LUA_SOURCE``)."""
    return [name for group in GROUPS for name in getattr(group, "LUA_FUNCTIONS", ())]


FUNCTION_NAMES = sorted([*all_functions(), *lua_functions()]) + sorted(all_constants())


def packed_results() -> frozenset[str]:
    """Functions whose flat results sandbox.lua's wrap_packed turns into a table."""
    return frozenset().union(*(getattr(group, "PACKED", ()) for group in GROUPS))


def _wrap(runtime: Any, name: str, function: Callable, packed: bool = False) -> Any:
    """A Lua function calling ``function(runtime, ...)``; Python errors become Lua errors."""
    wrap_py = runtime.sandbox.wrap_packed if packed else runtime.sandbox.wrap_py
    # Lua owns this closure, so it must hold no Lua object (their refs would be released
    # inside lua_close) and no strong ref to the runtime (a cycle lupa cannot collect).
    runtime = weakref.proxy(runtime)

    def call_from_lua(*args: Any) -> Any:
        try:
            return function(runtime, *args)
        except TypeError as exc:
            return runtime.sandbox.PY_ERROR, f"{name}: bad arguments ({exc})".encode()
        except Exception as exc:  # any library failure is the script's error, not ours
            return runtime.sandbox.PY_ERROR, f"{name}: {exc}".encode("utf-8", "replace")
    call_from_lua.__name__ = name
    fast = getattr(function, "fast_path", None)  # its common case in one frame (lib_pcre...)
    return wrap_py(call_from_lua if fast is None else fast(call_from_lua, runtime))


def _place(runtime: Any, root: Any, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    table = root
    for part in parents:
        key = part.encode()
        if table[key] is None:
            table[key] = runtime.table()
        table = table[key]
    table[leaf.encode()] = value


def install_all(runtime: Any) -> Any:
    """Put every library function into the sandbox's shared globals; returns msys."""
    base = runtime.sandbox.base
    packed = packed_results()
    for name, function in all_functions().items():
        _place(runtime, base, name, _wrap(runtime, name, function, name in packed))
    for group in GROUPS:  # functions written in Lua: no Python crossing per call
        source = getattr(group, "LUA_SOURCE", None)
        if source:
            made = runtime.sandbox.lua.execute(source.encode())
            for name in group.LUA_FUNCTIONS:
                _place(runtime, base, name, made[name.encode()])
    for name, value in all_constants().items():
        _place(runtime, base, name, value)
    # extended APIs ('msys.extended.message' ...) need no separate loading here
    return base[b"msys"]
