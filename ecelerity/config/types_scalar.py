"""Scalar option value types: booleans, numbers, strings, enums, rates, max_retries.

Who calls it: types.py re-exports these classes and builds the shared instances
(BOOLEAN, SECONDS, RATE, ...) the option tables use; nobody imports this module
directly. ``parse`` turns a tree Value into a Python value, ``render`` prints one in
config-file form. Pure and fast: no I/O, no globals touched; never raises anything but
ConfigValueError (without a location) for bad input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from .tree import Scalar, Value
from .types_base import ConfigValueError, OptionType, quote, scalar_text, shape_of


@dataclass(frozen=True)
class Rate:
    """A throttle: ``count`` events per ``seconds`` seconds (``"60/3"``)."""

    count: int
    seconds: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def __str__(self) -> str:
        return str(self.count) if self.seconds == 1 else f"{self.count}/{self.seconds}"



_TRUE = frozenset({"on", "true", "yes", "enabled", "enable", "1"})
_FALSE = frozenset({"off", "false", "no", "disabled", "disable", "0"})


class BooleanType(OptionType):
    """Momentum's ec_atobool words plus yes/no."""

    name = "boolean"
    doc = "on/off, true/false, yes/no, enabled/disabled, 1/0"
    _expected = "a boolean (on/off, true/false, yes/no, enabled/disabled, 1/0)"

    def parse(self, value: Value) -> bool:
        word = scalar_text(value, self._expected).lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ConfigValueError(f"expected {self._expected}, got '{value.text}'")

    def render(self, py_value: Any) -> str:
        return "true" if py_value else "false"


class IntegerType(OptionType):
    """A decimal integer, optionally bounded (``min_value``/``max_value``)."""

    name = "integer"
    _suffixes: dict[str, int] = {}
    _what = "an integer"

    def __init__(self, min_value: int | None = 0, max_value: int | None = None):
        self.min_value = min_value
        self.max_value = max_value
        self.doc = self._describe()

    def _describe(self) -> str:
        what = self._what
        if self.min_value is not None and self.max_value is not None:
            return f"{what} from {self.min_value} to {self.max_value}"
        if self.min_value is not None:
            return f"{what} >= {self.min_value}"
        return what

    def parse(self, value: Value) -> int:
        text = scalar_text(value, self.doc)
        number = self._number(text)
        if number is None:
            raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")
        if (self.min_value is not None and number < self.min_value) or (
            self.max_value is not None and number > self.max_value
        ):
            raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")
        return number

    def _number(self, text: str) -> int | None:
        multiplier = 1
        if self._suffixes and text and text[-1].lower() in self._suffixes:
            multiplier = self._suffixes[text[-1].lower()]
            text = text[:-1].strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            return None
        return int(text) * multiplier

    def render(self, py_value: Any) -> str:
        return str(int(py_value))


class SecondsType(IntegerType):
    """Whole seconds; ``s``/``m``/``h``/``d`` suffixes accepted as a convenience."""

    name = "seconds"
    _suffixes = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    _what = "a number of seconds"


class SizeType(IntegerType):
    """Bytes; ``k``/``m``/``g`` suffixes (powers of 1024) accepted as a convenience."""

    name = "size"
    _suffixes = {"k": 1024, "m": 1024**2, "g": 1024**3}
    _what = "a size in bytes"


class PercentType(IntegerType):
    """0-100, with or without a trailing ``%``."""

    name = "percent"

    def __init__(self) -> None:
        super().__init__(0, 100)
        self.doc = "a percentage 0-100"

    def _number(self, text: str) -> int | None:
        return super()._number(text[:-1].strip() if text.endswith("%") else text)


class OctalModeType(OptionType):
    """A file mode written with a leading 0 (``0640``), read as octal."""

    name = "octal_mode"
    doc = "an octal file mode like 0640"

    def parse(self, value: Value) -> int:
        text = scalar_text(value, self.doc)
        if not re.fullmatch(r"0[0-7]{0,4}", text):
            raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")
        return int(text, 8)

    def render(self, py_value: Any) -> str:
        return "0" + format(int(py_value), "o").rjust(3, "0")


class StringType(OptionType):
    """Any single word or quoted string; ``allow_empty=False`` refuses ``""``."""

    name = "string"
    doc = "a string"

    def __init__(self, allow_empty: bool = True, name: str = "string", doc: str = "a string"):
        self.allow_empty = allow_empty
        self.name = name
        self.doc = doc

    def parse(self, value: Value) -> str:
        if not isinstance(value, Scalar):
            raise ConfigValueError(f"expected {self.doc}, got {shape_of(value)}")
        if not self.allow_empty and not value.text.strip():
            raise ConfigValueError(f"expected {self.doc}, got an empty string")
        return value.text

    def render(self, py_value: Any) -> str:
        return quote(str(py_value))


class PathType(StringType):
    """A filesystem path or URI (not checked for existence: that is the user's job)."""

    def __init__(self) -> None:
        super().__init__(allow_empty=False, name="path", doc="a file path")

    def render(self, py_value: Any) -> str:
        return '"' + str(py_value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class EnumType(OptionType):
    """One of fixed words, matched case-insensitively; returns the declared spelling.

    ``allow_int=True`` also accepts a non-negative integer (``rfc2822_max_line_length``).
    """

    name = "enum"

    def __init__(self, choices: Iterable[str], allow_int: bool = False):
        self.choices: tuple[str, ...] = tuple(choices)
        self._by_lower = {c.lower(): c for c in self.choices}
        self.allow_int = allow_int
        listed = ", ".join(self.choices)
        self.doc = f"one of: {listed}" + (" or an integer" if allow_int else "")

    def parse(self, value: Value) -> str | int:
        text = scalar_text(value, self.doc)
        choice = self._by_lower.get(text.lower())
        if choice is not None:
            return choice
        if self.allow_int and re.fullmatch(r"[0-9]+", text):
            return int(text)
        raise ConfigValueError(f"expected {self.doc}; got '{value.text}'")

    def render(self, py_value: Any) -> str:
        return str(py_value)


class RateType(OptionType):
    """``"N"`` (N per second) or ``"N/S"`` (N per S seconds) -> Rate."""

    name = "rate"
    doc = 'a rate "N" or "N/S" (N messages per S seconds)'

    def parse(self, value: Value) -> Rate:
        text = scalar_text(value, self.doc)
        match = re.fullmatch(r"([0-9]+)\s*(?:/\s*([0-9]+))?", text)
        if match is None or (match.group(2) is not None and int(match.group(2)) == 0):
            raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")
        return Rate(int(match.group(1)), int(match.group(2) or 1))

    def render(self, py_value: Any) -> str:
        return f'"{py_value}"'


class MaxRetriesType(OptionType):
    """``auto`` (derived from message_expiration), ``none`` (no limit) or an integer >= 0."""

    name = "max_retries"
    doc = '"auto", "none" or an integer >= 0'

    def parse(self, value: Value) -> str | int:
        text = scalar_text(value, self.doc).lower()
        if text in ("auto", "none"):
            return text
        if re.fullmatch(r"[0-9]+", text):
            return int(text)
        raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")

    def render(self, py_value: Any) -> str:
        return str(py_value)
