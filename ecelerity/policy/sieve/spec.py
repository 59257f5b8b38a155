"""Command and test signatures, and the parsed-argument record handed to builders.

Shared by compiler.py (which parses arguments against a Spec) and the modules that
define commands (actions.py, tests_std.py, ext_*.py). Data only: no behaviour
beyond argument checks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import Loc
from .matchers import Matcher

# tag -> what follows it: "" (nothing), "string", "strings" or "number"
TagKinds = dict[str, str]


@dataclass
class Spec:
    """How a command or test is written and how to build its closure."""

    build: Callable[..., Callable]
    tags: TagKinds = field(default_factory=dict)
    positional: tuple[str, ...] = ()      # "string", "strings", "number"; "opt_strings" first = optional
    extension: str | None = None
    match: bool = False                   # accepts match type + comparator
    address_part: bool = False
    tests: str = "none"                   # "none" | "one" | "list" (for tests)
    exclusive: tuple[tuple[str, ...], ...] = ()   # groups of mutually exclusive tags
    tag_extensions: dict[str, str] = field(default_factory=dict)


@dataclass
class Args:
    """Arguments of one command or test after checking them against its Spec."""

    name: str
    loc: Loc
    tags: dict[str, Any]
    positional: list[Any]
    matcher: Matcher
    address_part: str = "all"
    tests: list[Callable] = field(default_factory=list)
    block: tuple[Callable, ...] | None = None
    node: Any = None
