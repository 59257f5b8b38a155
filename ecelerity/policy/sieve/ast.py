"""Sieve syntax tree: what parser.py produces and compiler.py consumes.

Plain data, no behaviour. Every node keeps its Loc so any later error can name
file:line:col. Strings are raw (variables and encoded characters unexpanded).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Loc


@dataclass
class StringArg:
    """A string or a bracketed string list; ``bracketed`` tells which was written."""

    values: list[str]
    loc: Loc
    bracketed: bool = False
    dollar: bool = False  # a Sieve++ ``$name`` reference, stored as the template "${name}"


@dataclass
class NumberArg:
    value: int
    loc: Loc


@dataclass
class TagArg:
    name: str  # without the colon, lower-cased
    loc: Loc


Arg = StringArg | NumberArg | TagArg


@dataclass
class Test:
    name: str
    args: list[Arg]
    tests: list["Test"]
    loc: Loc
    test_list: bool = False  # written as ( t1, t2 ) rather than a single test


@dataclass
class Command:
    name: str
    args: list[Arg]
    tests: list[Test]
    block: list["Command"] | None
    loc: Loc
    test_list: bool = False
    assign_to: str | None = None  # Sieve++ ``$name = value;`` (value in ``tests``/``args``)


@dataclass
class Script:
    commands: list[Command] = field(default_factory=list)
    name: str = "<script>"
