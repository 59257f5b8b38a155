"""msys.pcre.*: match, replace, split with real PCRE2 (the ``pcre2`` package).

Installed by libraries.py. Subjects and patterns are Lua strings (bytes).
  match(subject, pattern[, flags]) -> table of captures (1..n, plus named ones;
      [0] is the whole match) or nil
  replace(subject, pattern, replacement[, flags]) -> new string, count
      (every match; ``$1`` / ``${name}`` / ``\\1`` in the replacement)
  split(subject, pattern[, flags]) -> array of strings
``flags`` is a string of letters: i (caseless), m (multiline), s (dotall), x (extended).
Compiled patterns are cached. Never does I/O.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pcre2

_FLAG_LETTERS = {"i": pcre2.I, "m": pcre2.M, "s": pcre2.S, "x": pcre2.X}
_DOLLAR_REF = re.compile(rb"\$(?:(\d+)|\{(\w+)\})")


class PcreError(ValueError):
    pass


@lru_cache(maxsize=512)
def _compiled(pattern: bytes, flags: bytes) -> Any:
    options = 0
    for letter in flags.decode("ascii", "replace"):
        if letter not in _FLAG_LETTERS:
            raise PcreError(f"unknown pcre flag {letter!r} (use i, m, s, x)")
        options |= _FLAG_LETTERS[letter]
    try:
        return pcre2.compile(pattern, options)
    except Exception as exc:
        raise PcreError(f"bad pattern {pattern.decode('utf-8', 'replace')!r}: {exc}") from exc


@lru_cache(maxsize=512)
def _matcher(pattern: bytes, flags: bytes) -> tuple[Any, range, tuple[tuple[bytes, int], ...]]:
    """The compiled pattern, its group numbers (0..n) and its named groups, cached:
    match() then reads each capture once (Match.group/groups/groupdict each re-walk them)."""
    compiled = _compiled(pattern, flags)
    names = tuple((name.encode() if isinstance(name, str) else name, index)
                  for name, index in compiled.groupindex.items())
    return compiled, range(compiled.groups + 1), names


def match(runtime: Any, subject: bytes, pattern: bytes, flags: bytes = b"") -> Any:
    compiled, numbers, names = _matcher(bytes(pattern), bytes(flags or b""))
    found = compiled.search(bytes(subject))
    if found is None:
        return None
    captures: dict[Any, Any] = {number: found[number] for number in numbers}
    for name, index in names:
        captures[name] = captures[index]
    return runtime.sandbox.lua.table_from(captures)


def _template(replacement: bytes) -> bytes:
    escaped = replacement.replace(b"\\g", b"\\\\g")
    return _DOLLAR_REF.sub(lambda m: b"\\g<" + (m.group(1) or m.group(2)) + b">", escaped)


def replace(runtime: Any, subject: bytes, pattern: bytes, replacement: bytes,
            flags: bytes = b"") -> tuple[bytes, int]:
    compiled = _compiled(bytes(pattern), bytes(flags or b""))
    result, count = compiled.subn(_template(bytes(replacement)), bytes(subject))
    return result, count


def split(runtime: Any, subject: bytes, pattern: bytes, flags: bytes = b"") -> Any:
    parts = _compiled(bytes(pattern), bytes(flags or b"")).split(bytes(subject))
    return runtime.sandbox.lua.table_from([p for p in parts if p is not None])


FUNCTIONS = {"msys.pcre.match": match, "msys.pcre.replace": replace, "msys.pcre.split": split}
