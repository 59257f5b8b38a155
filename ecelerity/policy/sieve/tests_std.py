"""RFC 5228 tests: address, header, envelope, exists, size, allof, anyof, not, true, false.

Registered into compiler.py through TESTS. Each builder returns a closure
``test(rt) -> bool``; a successful :matches/:regex stores its captures as match
variables. Reads the message only through MessageView.
"""
from __future__ import annotations

from typing import Callable

from .errors import SieveCompileError
from .runtime import Runtime
from .spec import Args, Spec

TestFn = Callable[[Runtime], bool]
ENVELOPE_PARTS = ("from", "to", "auth")


def address_part(address: str, part: str) -> str | None:
    """:all, :localpart, :domain, :user, :detail (RFC 5233, separator '+')."""
    if part == "all":
        return address
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, ""
    if part == "localpart":
        return local
    if part == "domain":
        return domain
    user, plus, detail = local.partition("+")
    if part == "user":
        return user
    return detail if plus else None


def _run_match(rt: Runtime, args: Args, values: list[str], keys: list[str]) -> bool:
    hit, captures = args.matcher.match(values, keys)
    if hit and args.matcher.captures_values:
        rt.set_matches(captures)
    return hit


def _check_header_names(args: Args, env, arg) -> None:
    for name in env.constant(arg) or []:
        if not name or any(ord(c) <= 32 or ord(c) >= 127 or c == ":" for c in name):
            raise SieveCompileError(f"invalid header name {name!r}", arg.loc)


def build_header(args: Args, env) -> TestFn:
    _check_header_names(args, env, args.positional[0])
    names, keys = env.strings(args.positional[0]), env.strings(args.positional[1])

    def header(rt: Runtime) -> bool:
        values = [v for name in names(rt) for v in rt.message.headers(name)]
        return _run_match(rt, args, values, keys(rt))
    return header


def build_address(args: Args, env) -> TestFn:
    _check_header_names(args, env, args.positional[0])
    names, keys, part = env.strings(args.positional[0]), env.strings(args.positional[1]), args.address_part

    def address(rt: Runtime) -> bool:
        values = []
        for name in names(rt):
            for addr in rt.message.addresses(name):
                value = address_part(addr, part)
                if value is not None:
                    values.append(value)
        return _run_match(rt, args, values, keys(rt))
    return address


def build_envelope(args: Args, env) -> TestFn:
    for name in env.constant(args.positional[0]) or []:
        if name.lower() not in ENVELOPE_PARTS:
            raise SieveCompileError(f"unknown envelope part '{name}'", args.positional[0].loc)
    parts, keys, part = env.strings(args.positional[0]), env.strings(args.positional[1]), args.address_part

    def envelope(rt: Runtime) -> bool:
        values = []
        for name in parts(rt):
            addr = rt.message.envelope.get(name.lower(), "").strip("<>")
            if not addr and name.lower() != "from":
                continue
            value = address_part(addr, part) if addr else ("" if part == "all" else None)
            if value is not None:
                values.append(value)
        return _run_match(rt, args, values, keys(rt))
    return envelope


def build_exists(args: Args, env) -> TestFn:
    _check_header_names(args, env, args.positional[0])
    names = env.strings(args.positional[0])
    return lambda rt: all(rt.message.has_header(n) for n in names(rt))


def build_size(args: Args, env) -> TestFn:
    over, under = args.tags.get("over"), args.tags.get("under")
    if (over is None) == (under is None):
        raise SieveCompileError("'size' needs exactly one of :over or :under", args.loc)
    limit = (over or under).value
    if over is not None:
        return lambda rt: rt.message.size > limit
    return lambda rt: rt.message.size < limit


def build_not(args: Args, env) -> TestFn:
    inner = args.tests[0]
    return lambda rt: not inner(rt)


def build_allof(args: Args, env) -> TestFn:
    tests = tuple(args.tests)
    return lambda rt: all(t(rt) for t in tests)


def build_anyof(args: Args, env) -> TestFn:
    tests = tuple(args.tests)
    return lambda rt: any(t(rt) for t in tests)


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
    "true": Spec(lambda args, env: (lambda rt: True)),
    "false": Spec(lambda args, env: (lambda rt: False)),
}
