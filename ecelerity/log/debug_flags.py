"""Debug_Flags: which paniclog events are written, by level and subsystem (momentum-facts.md §2.4).

``Debug_Flags { DEBUG = () INFO = () NOTICE = () WARNING = () ERROR = (ALL) CRITICAL = (ALL) }``
lists, per level, the subsystems whose events of that level reach the paniclog; ``ALL``
stands for every subsystem. The subsystems are Momentum's panic-log error classes
(the seed's appendix D): TIME FD SMTP LOG1 DNS DNSDS NET SIG MEM DB LIC SSL MOD START,
plus DANE and MTA_STS from the Debug_Flags reference and ERROR for generic events.

Our paniclog writers name a *module* (``config``, ``smtp``, ``log``...), not a class:
``subsystem_of(module)`` maps each module name in use to the class it belongs to (an
unknown module is ``ERROR``, generic). Levels are case-insensitive names or Momentum's
numbers 0 (Debug) .. 5 (Critical).

Who calls it: log/paniclog.py (``PanicLog.write``) with a ``DebugFlags`` built from the
configuration in force (``DebugFlags.from_config``). Pure: no I/O; an odd configuration
value falls back to the default flags rather than silencing the paniclog.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL")
SUBSYSTEMS = ("ERROR", "TIME", "FD", "SMTP", "LOG1", "DANE", "DNS", "DNSDS", "MTA_STS", "NET",
              "SIG", "MEM", "DB", "LIC", "SSL", "MOD", "START")
ALL = "ALL"
DEFAULT_LEVEL = "ERROR"
# the paniclog "module" names our code writes -> Momentum's error class
SUBSYSTEM_OF_MODULE = {
    "ecelerity": "START", "daemon": "START", "config": "START", "startup": "START",
    "signal": "SIG", "signals": "SIG",
    "smtp": "SMTP", "esmtp_listener": "SMTP", "session": "SMTP", "delivery": "SMTP",
    "queue": "SMTP", "bounce": "SMTP", "auth": "SMTP",
    "dns": "DNS", "resolver": "DNS",
    "net": "NET", "control": "NET", "console": "NET", "http": "NET", "listener": "NET",
    "log": "LOG1", "logs": "LOG1", "paniclog": "LOG1",
    "tls": "SSL", "ssl": "SSL", "starttls": "SSL",
    "module": "MOD", "modules": "MOD", "sieve": "MOD", "scriptlet": "MOD", "lua": "MOD",
    "spool": "FD", "fd": "FD",
    "memory": "MEM", "time": "TIME", "timer": "TIME", "db": "DB", "datasource": "DB",
}


def subsystem_of(module: str) -> str:
    """The error class of a paniclog module name (``scriptlet-00147`` -> MOD)."""
    key = str(module).strip().lower()
    found = SUBSYSTEM_OF_MODULE.get(key)
    if found is None:
        found = SUBSYSTEM_OF_MODULE.get(key.split("-")[0].split(":")[0], "ERROR")
    return found


def level_name(level: Any) -> str:
    """``'error'`` / ``4`` -> ``'ERROR'``; anything else -> ValueError naming it."""
    if isinstance(level, int) and 0 <= level < len(LEVELS):
        return LEVELS[level]
    name = str(level).strip().upper()
    if name.isdigit() and int(name) < len(LEVELS):
        return LEVELS[int(name)]
    if name not in LEVELS:
        raise ValueError(f"unknown paniclog level {level!r} (want one of {', '.join(LEVELS)})")
    return name


def _default_levels() -> dict[str, frozenset[str]]:
    return {level: frozenset({ALL}) if level in ("ERROR", "CRITICAL") else frozenset()
            for level in LEVELS}


@dataclass(frozen=True)
class DebugFlags:
    """Per level, the subsystems written (``ALL`` = every one)."""

    levels: dict[str, frozenset[str]] = field(default_factory=_default_levels)

    def allows(self, level: Any, subsystem: str) -> bool:
        chosen = self.levels.get(level_name(level), frozenset())
        return ALL in chosen or subsystem.upper() in chosen

    @classmethod
    def from_config(cls, cfg: Any) -> DebugFlags:
        """The flags of ``cfg``'s ``Debug_Flags`` stanza (the defaults for unset levels)."""
        levels = _default_levels()
        scope_get = getattr(cfg, "scope_get", None)
        if scope_get is None:
            return cls(levels)
        for level in LEVELS:
            try:
                value = scope_get([("debug_flags", None)], level.lower())
            except KeyError:
                continue
            except Exception:  # noqa: BLE001 - a strange value keeps the default level
                continue
            if isinstance(value, str):
                value = value.split()
            levels[level] = frozenset(str(item).upper() for item in (value or ()))
        return cls(levels)
