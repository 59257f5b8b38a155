"""Sieve errors and the engine's hard limits.

Compile errors carry ``file:line:col``; runtime errors carry the location of the
command that failed. The compiler, parser and runtime raise only these for bad
scripts or hostile input, never a bare Python exception.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """Where a token or node starts in a script (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SieveError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str, loc: Loc | None = None):
        self.message = message
        self.loc = loc
        super().__init__(f"{loc}: {message}" if loc is not None else message)


class SieveCompileError(SieveError):
    """The script cannot be compiled: syntax, unknown command, bad arguments, limits."""


class SieveRuntimeError(SieveError):
    """The script failed while running: action conflicts, limits, regex budget."""


@dataclass(frozen=True)
class Limits:
    """Bounds that keep hostile scripts from hanging or exhausting the process."""

    max_script_size: int = 1 << 20          # bytes of source (Pigeonhole: 1M)
    max_nesting: int = 32                   # blocks + nested tests
    max_string_list: int = 1024             # items in one string list
    max_include_depth: int = 10             # nested include levels (Pigeonhole: 10)
    max_includes: int = 255                 # distinct included scripts per run
    max_actions: int = 32                   # Pigeonhole sieve_max_actions
    max_redirects: int = 4                  # Pigeonhole sieve_max_redirects
    max_variable_size: int = 4096           # Pigeonhole sieve_variables_max_variable_size
    max_variables: int = 255                # per scope
    max_match_values: int = 32
    regex_match_limit: int = 200_000        # PCRE2 (*LIMIT_MATCH) per match attempt
    regex_depth_limit: int = 10_000         # PCRE2 (*LIMIT_DEPTH)
    max_regex_length: int = 4096


DEFAULT_LIMITS = Limits()
