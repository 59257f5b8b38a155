"""variables (RFC 5229): the ``set`` command with modifiers and the ``string`` test.

Registered into compiler.py. Expansion of ``${...}`` in strings is compiled in
strings.py; this module only writes variables and tests strings.
"""
from __future__ import annotations

import re

from .errors import SieveCompileError
from .match_compile import compile_match
from .runtime import Runtime
from .spec import Args, Spec
from .strings import quote_regex, quote_wildcard

_NAME = re.compile(r"^(?:global\.)?[A-Za-z_][A-Za-z0-9_]*$")
MODIFIERS = {  # name -> precedence (higher is applied first)
    "lower": 40, "upper": 40, "lowerfirst": 30, "upperfirst": 30,
    "quotewildcard": 20, "quoteregex": 20, "length": 10,
}


def _apply(modifier: str, value: str) -> str:
    if modifier == "lower":
        return value.lower()
    if modifier == "upper":
        return value.upper()
    if modifier == "lowerfirst":
        return value[:1].lower() + value[1:]
    if modifier == "upperfirst":
        return value[:1].upper() + value[1:]
    if modifier == "quotewildcard":
        return quote_wildcard(value)
    if modifier == "quoteregex":
        return quote_regex(value)
    return str(len(value))


def _set(args: Args, env):
    name_arg, value_arg = args.positional
    name = (env.constant(name_arg) or [""])[0]
    if not _NAME.match(name):
        raise SieveCompileError(f"invalid variable name {name!r}", name_arg.loc)
    if name.lower().startswith("global."):
        env.need("include", "the 'global.' namespace", name_arg.loc)
    modifiers = [m for m in args.tags if m in MODIFIERS]
    levels = [MODIFIERS[m] for m in modifiers]
    if len(set(levels)) != len(levels):
        raise SieveCompileError("'set' modifiers of the same precedence cannot be combined", args.loc)
    if "quoteregex" in modifiers:
        env.need("regex", "modifier ':quoteregex'", args.loc)
    ordered = sorted(modifiers, key=lambda m: -MODIFIERS[m])
    value, key = env.string(value_arg), name.lower()

    def set_variable(rt: Runtime) -> None:
        text = value(rt)
        for modifier in ordered:
            text = _apply(modifier, text)
        rt.set_variable(key, text)
    return set_variable


def _string(args: Args, env):
    sources = env.strings(args.positional[0])
    check = compile_match(args.matcher, env.strings(args.positional[1]), env.constant(args.positional[1]))
    if args.matcher.match_type == "count":
        return lambda rt: check(rt, [v for v in sources(rt) if v != ""])
    return lambda rt: check(rt, sources(rt))


COMMANDS = {
    "set": Spec(_set, tags={m: "" for m in MODIFIERS}, positional=("string", "string"),
                extension="variables"),
}
TESTS = {
    "string": Spec(_string, positional=("strings", "strings"), match=True, extension="variables"),
}
