"""Compile-time string handling: encoded-character decoding and variable templates.

Called by compiler.py for every string argument. ``${hex:..}``/``${unicode:..}``
(RFC 5228 §2.4.2.4) are decoded once at compile time; ``${name}`` and ``${N}``
(RFC 5229) become a template expanded against the Runtime; Sieve++ macros
``%{vctx_conn:k}``/``%{vctx_mess:k}`` read the validation context. A malformed ``${...}``
stays literal, as the RFCs require. Never evaluates anything but variable and context lookups.
"""
from __future__ import annotations

import re
from typing import Callable

from .runtime import Runtime

StrFn = Callable[[Runtime], str]

_ENCODED = re.compile(r"\$\{(hex|unicode):([^}]*)\}", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[0-9]+)\}")


def decode_encoded_characters(text: str) -> str:
    def replace(found: re.Match) -> str:
        kind, body = found.group(1).lower(), found.group(2)
        items = body.split()
        if not items:
            return found.group(0)
        try:
            if kind == "hex":
                return bytes(int(h, 16) for h in items).decode("utf-8")
            chars = []
            for h in items:
                code = int(h, 16)
                if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                    return found.group(0)
                chars.append(chr(code))
            return "".join(chars)
        except (ValueError, UnicodeDecodeError):
            return found.group(0)

    return _ENCODED.sub(replace, text)


def compile_template(text: str, variables: bool) -> StrFn:
    """A function giving the string's value at run time (constant when possible).

    Sieve++ macros ``%{vctx_conn:key}`` / ``%{vctx_mess:key}`` are expanded after the
    variables, from the run's PolicyHost (empty without one); other ``%{...}`` stay literal.
    """
    inner = _variable_template(text, variables)
    if "%{" not in text or _MACRO.search(text) is None:
        return inner

    def with_macros(rt: Runtime) -> str:
        return _MACRO.sub(lambda found: _macro_value(rt, found), inner(rt))
    return with_macros


_MACRO = re.compile(r"%\{(vctx_conn|vctx_mess):([^}]*)\}")


def _macro_value(rt: Runtime, found: re.Match) -> str:
    host = rt.host
    if host is None:
        return ""
    which = "conn" if found.group(1) == "vctx_conn" else "mess"
    return host.vctx.get(which, found.group(2)) or ""


def _variable_template(text: str, variables: bool) -> StrFn:
    if not variables or "${" not in text:
        return lambda rt, _value=text: _value
    parts: list[str | tuple[str, object]] = []
    last = 0
    for found in _VARIABLE.finditer(text):
        if found.start() > last:
            parts.append(text[last:found.start()])
        name = found.group(1)
        if name.isdigit():
            parts.append(("match", int(name)))
        else:
            parts.append(("var", name.lower()))
        last = found.end()
    if last == 0 and not parts:
        return lambda rt, _value=text: _value
    parts.append(text[last:])
    frozen = tuple(parts)

    def expand(rt: Runtime) -> str:
        out = []
        for part in frozen:
            if isinstance(part, str):
                out.append(part)
            elif part[0] == "match":
                out.append(rt.get_match(part[1]))
            else:
                out.append(rt.get_variable(part[1]))
        return "".join(out)

    return expand


def is_constant(text: str, variables: bool) -> bool:
    if "%{" in text and _MACRO.search(text) is not None:
        return False
    return not variables or _VARIABLE.search(text) is None


def quote_wildcard(text: str) -> str:
    return re.sub(r"([*?\\])", r"\\\1", text)


def quote_regex(text: str) -> str:
    return re.sub(r"([.*+?^${}()|\[\]\\])", r"\\\1", text)
