"""The parsed form of ecelerity.conf: stanzas holding settings, values with locations.

The parser builds this tree and nothing else; the validator reads it and the
resolver turns it into typed values. Includes are already spliced in (each node
keeps the Location of the file it came from). Names keep their spelling as
written; ``kind`` and ``key`` are the lowercase forms used for matching, since
option and scope names are case-insensitive while instance names (bindings,
binding groups) are case-sensitive.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class Scalar:
    """A bare word, number or quoted string. ``text`` is unescaped."""

    text: str
    quoted: bool
    loc: Location


@dataclass
class ListValue:
    """``( a "b c" d )``: items are Scalars (lists of lists are refused by the parser)."""

    items: list["Value"]
    loc: Location


@dataclass
class DictValue:
    """``[ k = v  k2 = "v2" ]``: ordered (key as written, value, location of the key)."""

    items: list[tuple[str, "Value", Location]]
    loc: Location

    def as_dict(self) -> dict[str, "Value"]:
        return {k: v for k, v, _ in self.items}


Value = Union[Scalar, ListValue, DictValue]


@dataclass
class Setting:
    """``Name = value`` (the ``=`` is optional)."""

    name: str
    value: Value
    loc: Location
    readonly: bool = False  # came from readonly_include or a file included twice

    @property
    def key(self) -> str:
        return self.name.lower()


@dataclass
class Stanza:
    """``Kind [name] { ... }``; the root is ``Stanza(kind="global")``."""

    kind: str  # lowercase: "global", "domain", "binding", "esmtp_listener", "listen", a module name...
    spelling: str  # as written, e.g. "ESMTP_Listener"
    name: str | None  # instance name as written, None for anonymous stanzas
    loc: Location
    settings: list[Setting] = field(default_factory=list)
    children: list["Stanza"] = field(default_factory=list)
    parent: "Stanza | None" = field(default=None, repr=False)
    readonly: bool = False

    def path(self) -> list["Stanza"]:
        """Stanzas from the root down to this one (root excluded)."""
        chain: list[Stanza] = []
        node: Stanza | None = self
        while node is not None and node.kind != "global":
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def path_string(self) -> str:
        """Momentum's console notation: ``Esmtp_Listener::Listen:\\:25:`` style, simplified."""
        parts = []
        for s in self.path():
            if s.name is None:
                parts.append(s.spelling)
            else:
                parts.append(f"{s.spelling}:{s.name.replace(':', chr(92) + ':')}:")
        return "::".join(parts)

    def find_settings(self, key: str) -> list[Setting]:
        key = key.lower()
        return [s for s in self.settings if s.key == key]

    def child_stanzas(self, kind: str) -> list["Stanza"]:
        kind = kind.lower()
        return [c for c in self.children if c.kind == kind]
