"""Option value types: turn a parsed tree Value into a Python value, and back.

The option registry gives every option one of these types; the validator calls
``parse`` to check a setting, the resolver calls it to build typed values, and
``ec_dump_config`` / ``config get`` call ``render`` to print a value in
config-file form. ``parse`` raises ``ConfigValueError`` with a message an
operator understands and *without* a location (the caller knows where the value
sits and adds file:line:col). Parsing is pure and fast: no I/O, no DNS, no
globals touched. Never raise anything but ConfigValueError for bad input.

This module is the one to import from: it holds the composite types (lists,
dictionaries, scopes) and the shared instances, and re-exports the base
(types_base.py), the scalar types (types_scalar.py) and the network types
(types_network.py).
"""
from __future__ import annotations

from typing import Any

from .tree import DictValue, ListValue, Value
from .types_base import (AnyType, ConfigValueError, OptionType, quote, render_plain, shape_of,
                         to_plain)
from .types_network import (AddressType, CidrType, HostPort, HostPortType, IPNetwork, parse_cidr,
                            parse_hostport)
from .types_scalar import (BooleanType, EnumType, IntegerType, MaxRetriesType, OctalModeType,
                           PathType, PercentType, Rate, RateType, SecondsType, SizeType,
                           StringType)

__all__ = [
    "ConfigValueError", "OptionType", "AnyType", "quote", "to_plain", "render_plain",
    "Rate", "HostPort", "IPNetwork", "parse_cidr", "parse_hostport",
    "BooleanType", "IntegerType", "SecondsType", "SizeType", "PercentType", "OctalModeType",
    "StringType", "PathType", "EnumType", "RateType", "MaxRetriesType",
    "ListType", "DictType", "CidrType", "AddressType", "HostPortType", "ScopeType",
    "ANY", "BOOLEAN", "INTEGER", "COUNT", "POSITIVE", "SECONDS", "SIZE", "PERCENT", "PORT",
    "OCTAL_MODE", "STRING", "NONEMPTY", "PATH", "RATE", "MAX_RETRIES", "STRING_LIST", "CIDR",
    "CIDR_LIST", "ADDRESS_LIST", "HOSTPORT", "DICT", "SCOPE",
]


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
            raise ConfigValueError(f"expected {self.doc}, got {shape_of(value)}")
        return {key: to_plain(item) for key, item, _ in value.items}

    def render(self, py_value: Any) -> str:
        return render_plain(dict(py_value))


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
