"""RFC 5228 tests: address, header, envelope, exists, size, allof, anyof, not, true, false.

Registered into compiler.py through TESTS. Each builder returns a closure
``test(rt) -> bool``; a successful :matches/:regex stores its captures as match
variables. Constant header names are lower-cased and the match is specialised
(match_compile.py) at compile time, so a run does no string dispatch. The closures
codegen.py may inline record their shape (codegen.shape). Reads the message only
through MessageView.
"""
from __future__ import annotations

from typing import Callable

from .codegen import shape
from .errors import SieveCompileError
from .match_compile import Check, compile_match
from .runtime import Runtime
from .spec import Args, Spec

TestFn = Callable[[Runtime], bool]
ENVELOPE_PARTS = ("from", "to", "auth")


def _check_header_names(args: Args, env, arg) -> None:
    for name in env.constant(arg) or []:
        if not name or any(ord(c) <= 32 or ord(c) >= 127 or c == ":" for c in name):
            raise SieveCompileError(f"invalid header name {name!r}", arg.loc)


def _checker(args: Args, env, keys_arg) -> Check:
    return compile_match(args.matcher, env.strings(keys_arg), env.constant(keys_arg))


def _lower_names(env, arg) -> tuple[str, ...] | None:
    names = env.constant(arg)
    return None if names is None else tuple(name.lower() for name in names)


def build_header(args: Args, env) -> TestFn:
    _check_header_names(args, env, args.positional[0])
    check, keys = _checker(args, env, args.positional[1]), _lower_names(env, args.positional[0])
    if keys is not None and len(keys) == 1:
        key = keys[0]

        def header_one(rt: Runtime) -> bool:
            view = rt.message
            values = view.decoded.get(key)  # the view's per-name cache, read inline
            return check(rt, view.header_values(key) if values is None else values)
        return shape(header_one, "header1", key, check)
    names = env.strings(args.positional[0])

    def header(rt: Runtime) -> bool:
        wanted = keys if keys is not None else [name.lower() for name in names(rt)]
        return check(rt, [v for key in wanted for v in rt.message.header_values(key)])
    return header


def build_address(args: Args, env) -> TestFn:
    _check_header_names(args, env, args.positional[0])
    check, keys = _checker(args, env, args.positional[1]), _lower_names(env, args.positional[0])
    names, part = env.strings(args.positional[0]), args.address_part
    if keys is not None and len(keys) == 1:
        key = keys[0]

        def address_one(rt: Runtime) -> bool:
            return check(rt, rt.message.address_part_values(key, part))
        return shape(address_one, "address1", key, part, check)

    def address(rt: Runtime) -> bool:
        view = rt.message
        wanted = keys if keys is not None else [name.lower() for name in names(rt)]
        return check(rt, [value for key in wanted for value in view.address_part_values(key, part)])
    return address


def build_envelope(args: Args, env) -> TestFn:
    for name in env.constant(args.positional[0]) or []:
        if name.lower() not in ENVELOPE_PARTS:
            raise SieveCompileError(f"unknown envelope part '{name}'", args.positional[0].loc)
    check, keys = _checker(args, env, args.positional[1]), _lower_names(env, args.positional[0])
    parts, part = env.strings(args.positional[0]), args.address_part
    if keys is not None and len(keys) == 1:
        key = keys[0]

        def envelope_one(rt: Runtime) -> bool:
            return check(rt, rt.message.envelope_part_values(key, part))
        return shape(envelope_one, "envelope1", key, part, check)

    def envelope(rt: Runtime) -> bool:
        values_of = rt.message.envelope_part_values
        names = keys if keys is not None else [name.lower() for name in parts(rt)]
        return check(rt, [value for name in names for value in values_of(name, part)])
    return envelope


def build_exists(args: Args, env) -> TestFn:
    _check_header_names(args, env, args.positional[0])
    keys, names = _lower_names(env, args.positional[0]), env.strings(args.positional[0])
    if keys is not None and len(keys) == 1:
        key = keys[0]
        return shape(lambda rt: rt.message.has_key(key), "exists1", key)

    def exists(rt: Runtime) -> bool:
        has_key = rt.message.has_key
        for key in keys if keys is not None else [name.lower() for name in names(rt)]:
            if not has_key(key):
                return False
        return True
    return exists


def build_size(args: Args, env) -> TestFn:
    over, under = args.tags.get("over"), args.tags.get("under")
    if (over is None) == (under is None):
        raise SieveCompileError("'size' needs exactly one of :over or :under", args.loc)
    limit = (over or under).value
    if over is not None:
        return shape(lambda rt: rt.message.size > limit, "size", "over", limit)
    return shape(lambda rt: rt.message.size < limit, "size", "under", limit)


def build_not(args: Args, env) -> TestFn:
    inner = args.tests[0]
    return shape(lambda rt: not inner(rt), "not", inner)


def build_allof(args: Args, env) -> TestFn:
    tests = tuple(args.tests)
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return shape(lambda rt: first(rt) and second(rt), "allof", tests)

    def allof(rt: Runtime) -> bool:
        for test in tests:
            if not test(rt):
                return False
        return True
    return shape(allof, "allof", tests)


def build_anyof(args: Args, env) -> TestFn:
    tests = tuple(args.tests)
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return shape(lambda rt: first(rt) or second(rt), "anyof", tests)

    def anyof(rt: Runtime) -> bool:
        for test in tests:
            if test(rt):
                return True
        return False
    return shape(anyof, "anyof", tests)


TESTS = {
    "header": Spec(build_header, positional=("strings", "strings"), match=True),
    "address": Spec(build_address, positional=("strings", "strings"), match=True, address_part=True),
    "envelope": Spec(build_envelope, positional=("strings", "strings"), match=True,
                     address_part=True, extension="envelope"),
    "exists": Spec(build_exists, positional=("strings",)),
    "size": Spec(build_size, tags={"over": "number", "under": "number"}),
    "not": Spec(build_not, tests="one"),
    "allof": Spec(build_allof, tests="list"),
    "anyof": Spec(build_anyof, tests="list"),
    "true": Spec(lambda args, env: shape(lambda rt: True, "const", True)),
    "false": Spec(lambda args, env: shape(lambda rt: False, "const", False)),
}
