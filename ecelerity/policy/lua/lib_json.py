"""json.*: JSON for policy scripts (Momentum's global ``json`` module).

Installed by libraries.py.
  json.encode(v) -> string (arrays for tables with keys 1..n, objects otherwise;
      an empty table is {}); nil, err for values JSON cannot hold (functions, cycles)
  json.decode(s) -> value (null becomes nil inside arrays' holes) or nil, err
  json.new() -> an empty table
  json.strerror(err) -> err as text
Never does I/O.
"""
from __future__ import annotations

import json
from typing import Any

def _python(lua_type: Any, value: Any, depth: int = 0) -> Any:
    if depth > 64:
        raise ValueError("nesting too deep (cycle?)")
    kind = lua_type(value)
    if kind == "table":
        items = list(value.items())
        keys = [k for k, _ in items]
        if keys and all(isinstance(k, int) for k in keys) and sorted(keys) == list(
                range(1, len(keys) + 1)):
            return [_python(lua_type, value[k], depth + 1) for k in range(1, len(keys) + 1)]
        return {_key(k): _python(lua_type, v, depth + 1) for k, v in items}
    if kind is not None:
        raise ValueError(f"cannot encode a Lua {kind}")
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _key(key: Any) -> str:
    if isinstance(key, bytes):
        return key.decode("utf-8", "surrogateescape")
    return str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)


def encode(runtime: Any, value: Any = None) -> Any:
    try:
        return json.dumps(_python(runtime.sandbox.lua_type, value), ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8", "surrogateescape")
    except (ValueError, TypeError) as exc:
        return None, f"json.encode: {exc}".encode()


def decode(runtime: Any, text: bytes) -> Any:
    try:
        value = json.loads(bytes(text).decode("utf-8", "surrogateescape"))
    except ValueError as exc:
        return None, f"json.decode: {exc}".encode()
    return runtime.to_lua(value)


def new(runtime: Any) -> Any:
    return runtime.table()


def strerror(runtime: Any, err: Any = None) -> bytes:
    return err if isinstance(err, bytes) else str(err).encode()


FUNCTIONS = {"json.encode": encode, "json.decode": decode, "json.new": new,
             "json.strerror": strerror}
