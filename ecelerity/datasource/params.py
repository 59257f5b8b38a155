"""Query placeholders: Momentum's ``?``, ``:name`` and ``$name`` bound to a driver's style.

``bind(query, params, marker)`` walks the query once, outside quoted strings and
identifiers, and replaces every placeholder by ``marker`` (``?`` for sqlite, ``%s``
for psycopg and PyMySQL, whose literal ``%`` it doubles), returning the values in
order. ``?`` takes the next positional value (params a list, index 1 = first ``?``);
``:name`` and ``$name`` look ``name`` up in a dict (``$1`` is the first list item);
``::`` (a PostgreSQL cast) is left alone. ``inline_ldap`` puts the values into an LDAP
URL/filter with RFC 4515 escaping instead. Called by core.py; pure text work.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

_IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_IDENT = _IDENT_START + "0123456789"


class ParamError(ValueError):
    """A placeholder without a value (or values for a query without placeholders)."""


def _lookup(params: Any, key: str | int, what: str) -> Any:
    if isinstance(key, int):
        if isinstance(params, Mapping):
            for candidate in (key, str(key)):
                if candidate in params:
                    return params[candidate]
        elif isinstance(params, Sequence) and not isinstance(params, (str, bytes)):
            if 0 < key <= len(params):
                return params[key - 1]
        raise ParamError(f"no value for placeholder {what} (parameter #{key})")
    if isinstance(params, Mapping) and key in params:
        return params[key]
    raise ParamError(f"no value for placeholder {what} (give params a '{key}' key)")


def _walk(query: str, params: Any, emit: Callable[[Any], str], literal: Callable[[str], str]
          ) -> str:
    out: list[str] = []
    i, n, position = 0, len(query), 0
    while i < n:
        ch = query[i]
        if ch in "'\"`":  # copy a quoted string or identifier untouched
            end = i + 1
            while end < n:
                if query[end] == ch:
                    if end + 1 < n and query[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(literal(query[i:end + 1]))
            i = end + 1
            continue
        if ch == "?":
            position += 1
            out.append(emit(_lookup(params, position, "?")))
            i += 1
            continue
        if ch in ":$" and i + 1 < n:
            nxt = query[i + 1]
            if ch == ":" and nxt == ":":
                out.append("::")
                i += 2
                continue
            if nxt in _IDENT_START or (ch == "$" and nxt.isdigit()):
                end = i + 1
                while end < n and query[end] in _IDENT:
                    end += 1
                name = query[i + 1:end]
                key: str | int = int(name) if name.isdigit() else name
                out.append(emit(_lookup(params, key, ch + name)))
                i = end
                continue
        out.append(literal(ch))
        i += 1
    return "".join(out)


def bind(query: str, params: Any, marker: str) -> tuple[str, list[Any]]:
    """(query with ``marker`` placeholders, values in order). ``marker`` "%s" also
    doubles literal ``%`` signs, as format-style drivers need."""
    values: list[Any] = []

    def emit(value: Any) -> str:
        values.append(value)
        return marker

    literal = (lambda text: text.replace("%", "%%")) if marker == "%s" else (lambda text: text)
    if not params:
        params = []
    text = _walk(query, params, emit, literal)
    return text, values


def ldap_escape(value: Any) -> str:
    """RFC 4515 escaping of a value put into a search filter."""
    text = "" if value is None else str(value)
    return "".join(f"\\{ord(c):02x}" if c in "*()\\\0" else c for c in text)


def inline_ldap(query: str, params: Any) -> str:
    """An LDAP URL with ``?``-free ``$name`` / ``:name`` placeholders replaced, escaped.
    (``?`` separates LDAP URL parts, so only named placeholders exist there.)"""
    if not params:
        return query
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in ":$" and i + 1 < n and (query[i + 1] in _IDENT_START
                                         or (ch == "$" and query[i + 1].isdigit())):
            if ch == ":" and query[max(0, i - 4):i].lower().endswith(("ldap", "ldaps")):
                out.append(ch)  # the scheme's colon
                i += 1
                continue
            end = i + 1
            while end < n and query[end] in _IDENT:
                end += 1
            name = query[i + 1:end]
            key: str | int = int(name) if name.isdigit() else name
            if isinstance(params, Mapping) and key not in params and not isinstance(key, int):
                out.append(query[i:end])  # a port or other text, not a parameter
            else:
                out.append(ldap_escape(_lookup(params, key, ch + name)))
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)
