"""msys.pcre.*: match, replace, split with real PCRE2 (the ``pcre2`` package).

Installed by libraries.py. Subjects and patterns are Lua strings (bytes).
  match(subject, pattern[, flags]) -> table of captures (1..n, plus named ones;
      [0] is the whole match) or nil
  replace(subject, pattern, replacement[, flags]) -> new string, count
      (every match; ``$1`` / ``${name}`` / ``\\1`` in the replacement)
  split(subject, pattern[, flags]) -> array of strings
``flags`` is a string of letters: i (caseless), m (multiline), s (dotall), x (extended).
Compiled patterns are cached. match() is on the hot path of policies (two calls per
message in a typical one): it calls the pcre2 package's lowest-level match
(``pcre2._cy.match``, no Match object; the Pattern.search path when that API is not
there) and hands Lua the captures as a flat result that sandbox.lua's
``wrap_packed`` turns into the table (cheaper than building a Lua table from Python);
Lua reaches it through ``_fast_match`` (one frame for byte-string arguments).
Never does I/O.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

import pcre2

try:  # the pcre2 package's Cython layer: one call per match, no Match object
    from pcre2 import _cy
    _EMPTY_CONTEXT = pcre2._EMPTY_MATCH_CONTEXT
    _cy_match, _cy_group = _cy.match, _cy.match_substring_bynumber
    _probe = _cy_match(pcre2.compile(b"(b)")._pcre2_code, b"ab", 2, 0, _EMPTY_CONTEXT, 0)[0]
    if _cy_group(_probe, b"ab", 1) != b"b":
        raise ValueError("unexpected pcre2._cy behaviour")
except Exception:  # noqa: BLE001 - another pcre2 release: the public API instead
    _cy_match = None

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
def _matcher(pattern: bytes, flags: bytes) -> Callable[[bytes], Any]:
    """``find(subject)`` for a cached pattern: None, or the tuple ``(n, whole, 1, ..., n)``
    of its n groups (unset ones None) -- what ``wrap_packed`` turns into the captures
    table -- or, for a pattern with named groups, the finished table's dict."""
    compiled = _compiled(pattern, flags)
    count = compiled.groups
    names = tuple((name.encode() if isinstance(name, str) else name, index)
                  for name, index in compiled.groupindex.items())
    numbers = range(count + 1)
    if _cy_match is not None:
        code, context, match_data, group = compiled._pcre2_code, _EMPTY_CONTEXT, _cy_match, _cy_group

        if count == 0:  # no list comprehension (a frame of its own) for 0 or 1 group
            def find(subject: bytes) -> Any:
                found = match_data(code, subject, len(subject), 0, context, 0)[0]
                return None if found is None else (0, group(found, subject, 0))
        elif count == 1:
            def find(subject: bytes) -> Any:
                found = match_data(code, subject, len(subject), 0, context, 0)[0]
                if found is None:
                    return None
                return (1, group(found, subject, 0), group(found, subject, 1))
        else:
            def find(subject: bytes) -> Any:
                found = match_data(code, subject, len(subject), 0, context, 0)[0]
                if found is None:
                    return None
                return (count, *[group(found, subject, number) for number in numbers])
    else:
        search = compiled.search

        def find(subject: bytes) -> Any:
            found = search(subject)
            if found is None:
                return None
            return (count, *[found[number] for number in numbers])
    if not names:
        return find

    def find_named(subject: bytes) -> Any:
        flat = find(subject)
        if flat is None:
            return None
        captures: dict[Any, Any] = dict(enumerate(flat[1:]))
        for name, index in names:
            captures[name] = captures[index]
        return captures
    return find_named


def match(runtime: Any, subject: bytes, pattern: bytes, flags: bytes = b"") -> Any:
    found = _matcher(pattern if type(pattern) is bytes else bytes(pattern),
                     flags if type(flags) is bytes else bytes(flags or b""))(
        subject if type(subject) is bytes else bytes(subject))
    if type(found) is dict:
        return runtime.sandbox.lua.table_from(found)
    return found


def _fast_match(guarded: Callable, runtime: Any) -> Callable:
    """match() for byte-string arguments whose pattern has no named groups, in one
    frame; anything else (and any error) through ``guarded``, the library wrapper."""
    def fast(*args: Any) -> Any:
        if 2 <= len(args) <= 3:
            try:
                subject, pattern = args[0], args[1]
                flags = args[2] if len(args) == 3 else b""
                if type(subject) is bytes and type(pattern) is bytes and type(flags) is bytes:
                    found = _matcher(pattern, flags)(subject)
                    if type(found) is not dict:
                        return found
            except Exception:  # noqa: BLE001 - guarded answers with the error text
                pass
        return guarded(*args)
    return fast


match.fast_path = _fast_match  # type: ignore[attr-defined]  (libraries._wrap)


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


# results sandbox.lua's wrap_packed unpacks: (n, whole, captures 1..n) -> {[0]=whole, ...}
PACKED = frozenset({"msys.pcre.match"})
FUNCTIONS = {"msys.pcre.match": match, "msys.pcre.replace": replace, "msys.pcre.split": split}
