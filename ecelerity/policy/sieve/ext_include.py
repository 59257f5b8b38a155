"""include (RFC 6609): include, return and global, with depth and loop limits.

Registered into compiler.py. Included scripts are resolved and compiled at compile
time (compiler.compile_include checks loops and depth), then run at run time with
their own variable scope; ``global`` names are shared through the Runtime.
"""
from __future__ import annotations

import re

from .errors import SieveCompileError
from .runtime import ReturnScript, Runtime, Scope
from .spec import Args, Spec

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _include(args: Args, env):
    name = (env.constant(args.positional[0]) or [None])[0]
    if name is None:
        raise SieveCompileError("include needs a constant script name", args.positional[0].loc)
    location = "global" if "global" in args.tags else "personal"
    try:
        script = env.compile_include(name, location, args.loc)
    except FileNotFoundError as exc:
        if "optional" in args.tags:
            return lambda rt: None
        raise SieveCompileError(str(exc), args.positional[0].loc) from None
    once, key = "once" in args.tags, f"{location}:{script.name}"

    def include(rt: Runtime) -> None:
        seen = rt.included_once
        if once and key in seen:
            return
        if seen.__class__ is not set:  # runtime.NONE_YET until the first include
            seen = rt.included_once = set()
        seen.add(key)
        saved = rt.scope
        rt.scope = Scope()
        rt.include_depth += 1
        try:
            script.run(rt)
        except ReturnScript:
            pass
        finally:
            rt.scope = saved
            rt.include_depth -= 1
    return include


def _return(args: Args, env):
    def return_(rt: Runtime) -> None:
        raise ReturnScript()
    return return_


def _global(args: Args, env):
    env.need("variables", "'global'", args.loc)
    names = env.constant(args.positional[0]) or []
    for name in names:
        if not _NAME.match(name):
            raise SieveCompileError(f"invalid global variable name {name!r}", args.positional[0].loc)
    lowered = [n.lower() for n in names]

    def global_(rt: Runtime) -> None:
        scope = rt.scope
        if scope.global_names.__class__ is not set:  # runtime.NONE_YET until the first
            scope.global_names = set()
        scope.global_names.update(lowered)
    return global_


COMMANDS = {
    "include": Spec(_include, tags={"personal": "", "global": "", "once": "", "optional": ""},
                    positional=("string",), extension="include",
                    exclusive=(("personal", "global"),)),
    "return": Spec(_return, extension="include"),
    "global": Spec(_global, positional=("strings",), extension="include"),
}
