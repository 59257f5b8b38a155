"""Configuration errors and warnings, always tied to a file:line:col location.

Every problem a parser, validator or resolver finds is a ConfigProblem. Loading a
file collects problems and raises ConfigError once, carrying all of them, so an
operator sees every mistake in one run. Never raise anything else from config code
for bad input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .tree import Location


@dataclass(frozen=True)
class ConfigProblem:
    """One error or warning, printed as ``file:line:col: message``."""

    loc: Location | None
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc is not None else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.message}"


class ConfigError(Exception):
    """Raised when configuration cannot be used. ``problems`` holds every error found."""

    def __init__(self, problems: list[ConfigProblem] | ConfigProblem | str, loc: Location | None = None):
        if isinstance(problems, str):
            problems = [ConfigProblem(loc, problems)]
        elif isinstance(problems, ConfigProblem):
            problems = [problems]
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def first(self) -> ConfigProblem:
        return self.problems[0]


@dataclass
class ProblemList:
    """Accumulates problems while a pass runs; ``raise_if_errors`` ends the pass."""

    items: list[ConfigProblem] = field(default_factory=list)

    def error(self, loc: Location | None, message: str) -> None:
        self.items.append(ConfigProblem(loc, message, "error"))

    def warning(self, loc: Location | None, message: str) -> None:
        self.items.append(ConfigProblem(loc, message, "warning"))

    @property
    def errors(self) -> list[ConfigProblem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[ConfigProblem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ConfigError(self.errors)
