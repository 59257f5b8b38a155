"""Option value types: turn a parsed tree Value into a Python value, and back.

The option registry gives every option one of these types; the validator calls
``parse`` to check a setting, the resolver calls it to build typed values, and
``ec_dump_config`` / ``config get`` call ``render`` to print a value in
config-file form. ``parse`` raises ``ConfigValueError`` with a message an
operator understands and *without* a location (the caller knows where the value
sits and adds file:line:col). Parsing is pure and fast: no I/O, no DNS, no
globals touched. Never raise anything but ConfigValueError for bad input.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterable

from .tree import DictValue, ListValue, Scalar, Value


class ConfigValueError(ValueError):
    """A value does not fit its option's type; ``message`` has no location."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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


@dataclass(frozen=True)
class HostPort:
    """``host``, ``host:port``, ``[v6]:port``; ``port`` is None when not given."""

    host: str
    port: int | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


# --- helpers -----------------------------------------------------------------

_BARE_SAFE = re.compile(r"^[A-Za-z0-9_.:@*+%-]+$")


def quote(text: str) -> str:
    """Config-file form of a string: bare when safe, else double-quoted with escapes."""
    if text and _BARE_SAFE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shape(value: Value) -> str:
    if isinstance(value, ListValue):
        return "a list"
    if isinstance(value, DictValue):
        return "a dictionary"
    return f"'{value.text}'"


def _scalar_text(value: Value, expected: str) -> str:
    if not isinstance(value, Scalar):
        raise ConfigValueError(f"expected {expected}, got {_shape(value)}")
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


# --- the types ---------------------------------------------------------------


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


_TRUE = frozenset({"on", "true", "yes", "enabled", "enable", "1"})
_FALSE = frozenset({"off", "false", "no", "disabled", "disable", "0"})


class BooleanType(OptionType):
    """Momentum's ec_atobool words plus yes/no."""

    name = "boolean"
    doc = "on/off, true/false, yes/no, enabled/disabled, 1/0"
    _expected = "a boolean (on/off, true/false, yes/no, enabled/disabled, 1/0)"

    def parse(self, value: Value) -> bool:
        word = _scalar_text(value, self._expected).lower()
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
        text = _scalar_text(value, self.doc)
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
        text = _scalar_text(value, self.doc)
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
            raise ConfigValueError(f"expected {self.doc}, got {_shape(value)}")
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
        text = _scalar_text(value, self.doc)
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
        text = _scalar_text(value, self.doc)
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
        text = _scalar_text(value, self.doc).lower()
        if text in ("auto", "none"):
            return text
        if re.fullmatch(r"[0-9]+", text):
            return int(text)
        raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")

    def render(self, py_value: Any) -> str:
        return str(py_value)


class ListType(OptionType):
    """``( a b c )`` of ``item`` values.

    A single scalar is taken as a one-item list, as Momentum's parser does for
    array options written with one value (``relay_hosts = "127.0.0.1"``).
    """

    def __init__(self, item: OptionType | None = None, name: str = "list"):
        self.item = item or StringType()
        self.name = name
        self.doc = f"a list ( ... ) of {self.item.doc}"

    def parse(self, value: Value) -> list[Any]:
        if isinstance(value, DictValue):
            raise ConfigValueError(f"expected {self.doc}, got a dictionary")
        items = value.items if isinstance(value, ListValue) else [value]
        parsed = []
        for index, item in enumerate(items, 1):
            try:
                parsed.append(self.item.parse(item))
            except ConfigValueError as err:
                raise ConfigValueError(
                    err.message if len(items) == 1 else f"item {index}: {err.message}"
                ) from None
        return parsed

    def render(self, py_value: Any) -> str:
        inner = " ".join(self.item.render(v) for v in py_value)
        return f"( {inner} )" if inner else "( )"


class DictType(OptionType):
    """``[ k = v ... ]`` -> dict of plain values (str, list, nested dict), order kept."""

    name = "dict"
    doc = "a dictionary [ key = value ... ]"

    def parse(self, value: Value) -> dict[str, Any]:
        if not isinstance(value, DictValue):
            raise ConfigValueError(f"expected {self.doc}, got {_shape(value)}")
        return {key: to_plain(item) for key, item, _ in value.items}

    def render(self, py_value: Any) -> str:
        return render_plain(dict(py_value))


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_cidr(text: str) -> IPNetwork:
    """``10.0.0.0/8``, ``10.0.0.1``, ``2001:db8::/32``, ``::1`` (IPv6 never bracketed)."""
    text = text.strip()
    if text.startswith("["):
        raise ConfigValueError(
            f"expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32 "
            f"(IPv6 is not bracketed here), got '{text}'"
        )
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConfigValueError(
            f"expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32, got '{text}'"
        ) from None


class CidrType(OptionType):
    name = "cidr"
    doc = "an IP address or CIDR"

    def parse(self, value: Value) -> IPNetwork:
        return parse_cidr(_scalar_text(value, self.doc))

    def render(self, py_value: Any) -> str:
        return f'"{py_value.with_prefixlen}"'


_ADDRESS = re.compile(r"^[^\s@<>]+@[^\s@<>]+$")


class AddressType(OptionType):
    """An email address ``local@domain`` (no angle brackets)."""

    name = "address"
    doc = "an email address like user@example.com"

    def parse(self, value: Value) -> str:
        text = _scalar_text(value, self.doc)
        if not _ADDRESS.match(text):
            raise ConfigValueError(f"expected {self.doc}, got '{value.text}'")
        return text

    def render(self, py_value: Any) -> str:
        return quote(str(py_value))


_HOSTNAME = re.compile(r"^[A-Za-z0-9_*]([A-Za-z0-9_.*-]*[A-Za-z0-9_*])?\.?$")


def parse_hostport(text: str) -> HostPort:
    """``host``, ``host:port``, ``1.2.3.4:25``, ``[2001:db8::1]:25``, ``[v6]``, bare v6."""
    expected = f"expected host, host:port or [IPv6]:port, got '{text}'"
    text = text.strip()
    port_text = None
    if text.startswith("["):
        match = re.fullmatch(r"\[([^\]]+)\](?::([0-9]+))?", text)
        if match is None:
            raise ConfigValueError(expected)
        host, port_text = match.group(1), match.group(2)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigValueError(expected) from None
    elif text.count(":") > 1:
        try:
            return HostPort(str(ipaddress.IPv6Address(text)))
        except ValueError:
            raise ConfigValueError(expected) from None
    else:
        host, _, port_text = text.partition(":")
        port_text = port_text if ":" in text else None
        if not _HOSTNAME.match(host):
            raise ConfigValueError(expected)
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigValueError(expected)
        port = int(port_text)
    return HostPort(host, port)


class HostPortType(OptionType):
    name = "hostport"
    doc = "host, host:port or [IPv6]:port"

    def parse(self, value: Value) -> HostPort:
        return parse_hostport(_scalar_text(value, self.doc))

    def render(self, py_value: Any) -> str:
        return f'"{py_value}"'


class ScopeType(OptionType):
    """A name that is a stanza (``domain "x" { }``), listed in the registry for completeness."""

    name = "scope"
    doc = 'a stanza: Name ["instance"] { ... }'

    def parse(self, value: Value) -> Any:
        raise ConfigValueError(f"this is a scope, not an option: write it as {self.doc}")

    def render(self, py_value: Any) -> str:
        return "{ }"


# Shared instances: types hold no per-option state, so options share these.
ANY = AnyType()
BOOLEAN = BooleanType()
INTEGER = IntegerType(min_value=None)
COUNT = IntegerType(min_value=0)
POSITIVE = IntegerType(min_value=1)
SECONDS = SecondsType(min_value=0)
SIZE = SizeType(min_value=0)
PERCENT = PercentType()
PORT = IntegerType(min_value=1, max_value=65535)
OCTAL_MODE = OctalModeType()
STRING = StringType()
NONEMPTY = StringType(allow_empty=False, doc="a non-empty string")
PATH = PathType()
RATE = RateType()
MAX_RETRIES = MaxRetriesType()
STRING_LIST = ListType(STRING)
CIDR = CidrType()
CIDR_LIST = ListType(CIDR, name="cidr_list")
ADDRESS_LIST = ListType(AddressType(), name="address_list")
HOSTPORT = HostPortType()
DICT = DictType()
SCOPE = ScopeType()
