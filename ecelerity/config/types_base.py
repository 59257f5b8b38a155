"""The base of the option value types: the error, the base class, the shared helpers.

Who calls it: the type modules (types_scalar.py, types_network.py, types.py) build on
``OptionType`` and the helpers here; types.py re-exports every public name, so other
code imports from ``ecelerity.config.types`` only. ``quote``/``to_plain``/``render_plain``
are also used by ec_dump_config and ``config get`` through types.py.
Pure and fast: no I/O, no globals touched; never raises anything but ConfigValueError
for bad input, and never puts a location in a message (the caller adds file:line:col).
"""
from __future__ import annotations

import re
from typing import Any

from .tree import DictValue, ListValue, Scalar, Value


class ConfigValueError(ValueError):
    """A value does not fit its option's type; ``message`` has no location."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- helpers -----------------------------------------------------------------

_BARE_SAFE = re.compile(r"^[A-Za-z0-9_.:@*+%-]+$")


def quote(text: str) -> str:
    """Config-file form of a string: bare when safe, else double-quoted with escapes."""
    if text and _BARE_SAFE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shape_of(value: Value) -> str:
    """How a value is written, for messages: a list, a dictionary or the quoted text."""
    if isinstance(value, ListValue):
        return "a list"
    if isinstance(value, DictValue):
        return "a dictionary"
    return f"'{value.text}'"


def scalar_text(value: Value, expected: str) -> str:
    """The stripped text of a scalar; ConfigValueError naming ``expected`` otherwise."""
    if not isinstance(value, Scalar):
        raise ConfigValueError(f"expected {expected}, got {shape_of(value)}")
    return value.text.strip()


def to_plain(value: Value) -> Any:
    """A tree Value as plain Python: str, list, or dict (nested as written)."""
    if isinstance(value, Scalar):
        return value.text
    if isinstance(value, ListValue):
        return [to_plain(v) for v in value.items]
    return {k: to_plain(v) for k, v, _ in value.items}


def render_plain(py_value: Any) -> str:
    """Inverse of ``to_plain``."""
    if isinstance(py_value, dict):
        inner = " ".join(f"{quote(str(k))} = {render_plain(v)}" for k, v in py_value.items())
        return f"[ {inner} ]" if inner else "[ ]"
    if isinstance(py_value, (list, tuple)):
        inner = " ".join(render_plain(v) for v in py_value)
        return f"( {inner} )" if inner else "( )"
    if isinstance(py_value, bool):
        return "true" if py_value else "false"
    return quote(str(py_value))


# --- the base type -----------------------------------------------------------


class OptionType:
    """Base: ``name`` for listings; ``parse(Value)``; ``render(python value)``."""

    name = "any"
    doc = "any value"

    def parse(self, value: Value) -> Any:
        return to_plain(value)

    def render(self, py_value: Any) -> str:
        return render_plain(py_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class AnyType(OptionType):
    """Kept as written (str, list or dict): options whose shape we don't check yet."""
