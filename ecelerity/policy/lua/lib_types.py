"""msys.type, msys.cast, msys.dumper.Dumper: looking at values.

Installed by libraries.py.
  msys.type(v) -> the class name for ecelerity objects ("ec_message",
      "validate_context", "accept_construct", ...), else Lua's type() name
  msys.cast(v, class_name) -> v when it is of that class, else nil (our objects
      carry their class already, so a cast only checks)
  msys.dumper.Dumper(v) -> a readable multi-line dump of v (tables recursively,
      keys sorted, cycles shown as <cycle>)
Never does I/O.
"""
from __future__ import annotations

from typing import Any

def type_of(runtime: Any, value: Any = None) -> bytes:
    class_name = runtime.sandbox.class_of(value)
    if class_name is not None:
        return class_name
    kind = runtime.sandbox.lua_type(value)
    if kind is None:
        kind = {type(None): "nil", bool: "boolean", int: "number", float: "number",
                bytes: "string"}.get(type(value), "userdata")
    return kind.encode() if isinstance(kind, str) else kind


def cast(runtime: Any, value: Any, class_name: bytes) -> Any:
    return value if type_of(runtime, value) == bytes(class_name) else None


def dumper(runtime: Any, value: Any = None) -> bytes:
    lines: list[str] = []
    _dump(runtime, value, 0, set(), lines, prefix="")
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _scalar(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return repr(value.decode("utf-8", "surrogateescape")).replace("'", '"', 2)
    return str(value)


def _dump(runtime: Any, value: Any, depth: int, seen: set, lines: list, prefix: str) -> None:
    indent = "  " * depth
    class_name = runtime.sandbox.class_of(value)
    if class_name is not None:
        lines.append(f"{indent}{prefix}<{class_name.decode()}>")
        return
    if runtime.sandbox.lua_type(value) != "table":
        kind = runtime.sandbox.lua_type(value)
        lines.append(f"{indent}{prefix}{_scalar(value) if kind is None else '<' + kind + '>'}")
        return
    if id(value) in seen or depth > 32:
        lines.append(f"{indent}{prefix}<cycle>")
        return
    seen = seen | {id(value)}
    lines.append(f"{indent}{prefix}{{")
    for key, item in sorted(value.items(), key=lambda kv: (not isinstance(kv[0], int),
                                                           _scalar(kv[0]))):
        key_text = f"[{key}]" if isinstance(key, int) else _scalar(key).strip('"')
        _dump(runtime, item, depth + 1, seen, lines, prefix=f"{key_text} = ")
    lines.append(f"{indent}}}")


FUNCTIONS = {"msys.type": type_of, "msys.cast": cast, "msys.dumper.Dumper": dumper}
