"""imap4flags (RFC 5232): setflag/addflag/removeflag, hasflag and :flags on keep/fileinto.

Registered into compiler.py. The internal flag variable lives on the Runtime
(``rt.flags``); the optional variable-name form stores flags in a variable as a
space-separated string. Flags only annotate keep/fileinto: nothing here delivers.
"""
from __future__ import annotations

from typing import Callable

from .runtime import Runtime
from .spec import Args, Spec


def normalise_flags(strings: list[str]) -> list[str]:
    """Split on whitespace and drop case-insensitive duplicates, keeping first spelling."""
    out: list[str] = []
    seen: set[str] = set()
    for text in strings:
        for flag in text.split():
            if flag.lower() not in seen:
                seen.add(flag.lower())
                out.append(flag)
    return out


def flags_fn(args: Args, env) -> Callable[[Runtime], list[str] | None]:
    """The flags a keep/fileinto carries: its :flags, else the internal variable."""
    if "flags" in args.tags:
        given = env.strings(args.tags["flags"])
        return lambda rt: normalise_flags(given(rt))
    if env.has("imap4flags"):
        return lambda rt: list(rt.flags)
    return lambda rt: None


def _read(rt: Runtime, variable: str | None) -> list[str]:
    return list(rt.flags) if variable is None else normalise_flags([rt.get_variable(variable)])


def _write(rt: Runtime, variable: str | None, flags: list[str]) -> None:
    if variable is None:
        rt.flags = flags
    else:
        rt.set_variable(variable, " ".join(flags))


def _flag_command(mode: str):
    def build(args: Args, env):
        var_arg, flags_arg = args.positional
        variable = None
        if var_arg is not None:
            env.need("variables", f"'{args.name}' with a variable name", args.loc)
            variable = (env.constant(var_arg) or [""])[0].lower()
        given = env.strings(flags_arg)

        def flag_command(rt: Runtime) -> None:
            new = normalise_flags(given(rt))
            if mode == "set":
                result = new
            elif mode == "add":
                result = normalise_flags([" ".join(_read(rt, variable) + new)])
            else:
                drop = {f.lower() for f in new}
                result = [f for f in _read(rt, variable) if f.lower() not in drop]
            _write(rt, variable, result)
        return flag_command
    return build


def _hasflag(args: Args, env):
    var_arg, keys_arg = args.positional
    variables = env.strings(var_arg) if var_arg is not None else None
    keys = env.strings(keys_arg)

    def hasflag(rt: Runtime) -> bool:
        if variables is None:
            flags = list(rt.flags)
        else:
            flags = normalise_flags([rt.get_variable(v.lower()) for v in variables(rt)])
        hit, captures = args.matcher.match(flags, keys(rt))
        if hit and args.matcher.captures_values:
            rt.set_matches(captures)
        return hit
    return hasflag


_FLAG_ARGS = ("opt_strings", "strings")
COMMANDS = {
    "setflag": Spec(_flag_command("set"), positional=_FLAG_ARGS, extension="imap4flags"),
    "addflag": Spec(_flag_command("add"), positional=_FLAG_ARGS, extension="imap4flags"),
    "removeflag": Spec(_flag_command("remove"), positional=_FLAG_ARGS, extension="imap4flags"),
}
TESTS = {
    "hasflag": Spec(_hasflag, positional=_FLAG_ARGS, match=True, extension="imap4flags"),
}
