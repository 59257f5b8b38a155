"""Sieve++ value functions (``$x = name args;``) and the ``ec_test`` test.

Registered into compiler.py through FUNCTIONS (each is also usable as a command,
its value dropped) and TESTS. Covers the vctx getters, headers, message facts
(ec_get_message_*), ec_valid_binding, ec_config, ec_pcre_match (PCRE2 with the
engine's match budget), string/list/maths helpers, base64 / quoted-printable /
RFC 2047 codecs, MIME facts, spool space and memory usage, and ec_include.
Booleans are the strings "true"/"false", as Momentum returns them. Never writes
anything: actions live in ext_momentum_actions.py.
"""
from __future__ import annotations

import base64
import binascii
import math
import os
import quopri
import random
import resource
from typing import Callable

from ...core.encodings import decode_header_words, encode_header_words
from .errors import SieveCompileError, SieveRuntimeError
from .ast import StringArg
from .codegen import shape
from .ext_momentum_actions import host_of, number, value_fn
from .ext_momentum_throttle import as_command
from .match_compile import compile_match
from .matchers import regex_search
from .runtime import Runtime
from .spec import Args, Spec

ValueFn = Callable[[Runtime], object]


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _unary(func: Callable[[str], object]):
    """A function of one string argument."""
    def build(args: Args, env) -> ValueFn:
        arg = value_fn(env, args.positional[0])
        return lambda rt: func(arg(rt))
    return build


def _binary_math(op: Callable[[float, float], float]):
    def build(args: Args, env) -> ValueFn:
        left, right = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

        def maths(rt: Runtime) -> str:
            a, b = number(left(rt), args), number(right(rt), args)
            try:
                return _fmt(op(a, b))
            except ZeroDivisionError:
                raise SieveRuntimeError(f"'{args.name}': division by zero", args.loc) from None
        return maths
    return build


def _rounding(op: Callable[[float], float]):
    def build(args: Args, env) -> ValueFn:
        arg = value_fn(env, args.positional[0])
        return lambda rt: _fmt(op(number(arg(rt), args)))
    return build


def _rand(args: Args, env) -> ValueFn:
    limit = value_fn(env, args.positional[0])
    return lambda rt: str(random.randrange(max(1, int(number(limit(rt), args)))))


def _vctx_get(which: str):
    def build(args: Args, env) -> ValueFn:
        key = value_fn(env, args.positional[0])
        arg = args.positional[0]
        constant = env.constant(arg) if isinstance(arg, StringArg) and not arg.bracketed else None
        if constant is None:
            return lambda rt: host_of(rt, args).vctx.get(which, key(rt)) or ""
        name = constant[0]

        def vctx_get(rt: Runtime) -> str:
            host = rt.host
            if host is None:
                host_of(rt, args)  # raises the located error
            return host.vctx.get(which, name) or ""
        return shape(vctx_get, "vctx_get", which, name)  # codegen.py reads the dict inline
    return build


def _header_get(args: Args, env) -> ValueFn:
    name = value_fn(env, args.positional[0])
    return lambda rt: rt.message.headers(name(rt))


def _split(args: Args, env) -> ValueFn:
    sep, text = value_fn(env, args.positional[0]), env.strings(args.positional[1])

    def split(rt: Runtime) -> list[str]:
        separator = sep(rt)
        return [item for value in text(rt) for item in (value.split(separator) if separator else [value])]
    return split


def _join(args: Args, env) -> ValueFn:
    sep, items = value_fn(env, args.positional[0]), env.strings(args.positional[1])
    return lambda rt: sep(rt).join(items(rt))


def _reverse(args: Args, env) -> ValueFn:
    items = env.strings(args.positional[0])
    return lambda rt: list(reversed(items(rt)))


def _pcre_match(args: Args, env) -> ValueFn:
    subject, pattern = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_pcre_match(rt: Runtime) -> str:
        try:
            captures = regex_search(pattern(rt), subject(rt), "i;octet")
        except SieveRuntimeError as exc:
            raise SieveRuntimeError(f"ec_pcre_match: {exc.message}", args.loc) from None
        if captures is not None:
            rt.set_matches(captures)
        return _bool(captures is not None)
    return ec_pcre_match


def _b64_decode(text: str) -> str:
    try:
        return base64.b64decode(text.encode("ascii", "ignore"), validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _valid_binding(args: Args, env) -> ValueFn:
    name = value_fn(env, args.positional[0])

    def ec_valid_binding(rt: Runtime) -> str:
        cfg = host_of(rt, args).config
        return _bool(cfg is not None and cfg.has_binding(name(rt)))
    return ec_valid_binding


def _config(args: Args, env) -> ValueFn:
    option = value_fn(env, args.positional[0])

    def ec_config(rt: Runtime) -> str:
        cfg = host_of(rt, args).config
        if cfg is None:
            return ""
        try:
            value = cfg.get(option(rt).strip())
        except (KeyError, ValueError):
            return ""
        if isinstance(value, bool):
            return _bool(value)
        return "" if value is None else str(value)
    return ec_config


def _spool_space(args: Args, env) -> ValueFn:
    def ec_spool_space(rt: Runtime) -> str:
        base = host_of(rt, args).spool_base or "."
        try:
            stats = os.statvfs(base)
        except OSError:
            return "0"
        return str(stats.f_bavail * stats.f_frsize // 1024)
    return ec_spool_space


def _mem_usage(args: Args, env) -> ValueFn:
    return lambda rt: str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _mime_parts(args: Args, env) -> ValueFn:
    return lambda rt: str(sum(1 for part in rt.message.model.mime().walk() if not part.is_multipart))


def _valid_mime(args: Args, env) -> ValueFn:
    return lambda rt: _bool(not rt.message.model.defects())


def _message_fact(fact: str):
    def build(args: Args, env) -> ValueFn:
        def getter(rt: Runtime) -> str:
            host = host_of(rt, args)
            if fact == "id":
                return host.message_id or getattr(host.message, "id", "") or ""
            if fact == "size":
                return str(rt.message.size)
            if fact == "mailfrom":
                return host.mail_from or rt.message.envelope.get("from", "")
            if fact == "rcptto":
                recipient = host.recipient
                return getattr(recipient, "address", "") or rt.message.envelope.get("to", "")
            if fact == "protocol":
                return getattr(getattr(host.message, "envelope", None), "protocol", "") or "esmtp"
            if fact == "code":
                code = host.vctx.code
                return str(code.code) if code is not None else ""
            if fact == "creation_time":
                received = getattr(getattr(host.message, "envelope", None), "received_at", None)
                return str(int(received)) if received else ""
            return str({"received_from": host.peer_ip, "received_from_port": host.peer_port,
                        "received_via": host.local_ip, "received_via_port": host.local_port}[fact])
        return getter
    return build


def _include(args: Args, env) -> ValueFn:
    path_of = value_fn(env, args.positional[0])

    def ec_include(rt: Runtime) -> str:
        from .cache import compile_cached
        host = host_of(rt, args)
        path = path_of(rt)
        if rt.include_depth >= rt.limits.max_include_depth:
            raise SieveRuntimeError(f"ec_include nesting too deep (limit {rt.limits.max_include_depth})",
                                    args.loc)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(rt.limits.max_script_size + 1)
            script = compile_cached(text, path, limits=rt.limits, include_dirs=host.include_dirs)
        except OSError as exc:
            raise SieveRuntimeError(f"ec_include: cannot read {path!r}: {exc.strerror}", args.loc) from None
        except SieveCompileError as exc:
            raise SieveRuntimeError(f"ec_include: {exc}", args.loc) from None
        rt.include_depth += 1
        try:
            script.run(rt)
        finally:
            rt.include_depth -= 1
        return "true"
    return ec_include


def _ec_test(args: Args, env):
    """``ec_test :match-type $var "key"`` -- the Sieve++ generic test (no require needed)."""
    sources = env.strings(args.positional[0])
    check = compile_match(args.matcher, env.strings(args.positional[1]), env.constant(args.positional[1]))
    source = args.positional[0]
    if not (isinstance(source, StringArg) and source.dollar) or source.values[0][2:-1].startswith("global."):
        return lambda rt: check(rt, sources(rt))
    name = source.values[0][2:-1]

    def ec_test_variable(rt: Runtime) -> bool:  # ``ec_test :is $name ...``: read it inline
        scope = rt.scope
        if rt.lists or scope.global_names:
            return check(rt, rt.get_values(name))
        return check(rt, [scope.variables.get(name, "")])
    return shape(ec_test_variable, "testvar", name, check)


def _s(build, *positional: str) -> Spec:
    return Spec(build, positional=positional)


FUNCTIONS = {
    "vctx_conn_get": _s(_vctx_get("conn"), "value"),
    "vctx_mess_get": _s(_vctx_get("mess"), "value"),
    "ec_header_get": _s(_header_get, "value"),
    "ec_valid_binding": _s(_valid_binding, "value"),
    "ec_config": _s(_config, "value"),
    "ec_pcre_match": _s(_pcre_match, "value", "value"),
    "split": _s(_split, "value", "strings"),
    "join": _s(_join, "value", "strings"),
    "reverse": _s(_reverse, "strings"),
    "ec_add": _s(_binary_math(lambda a, b: a + b), "value", "value"),
    "ec_sub": _s(_binary_math(lambda a, b: a - b), "value", "value"),
    "ec_mul": _s(_binary_math(lambda a, b: a * b), "value", "value"),
    "ec_div": _s(_binary_math(lambda a, b: a / b), "value", "value"),
    "ec_trunc": _s(_rounding(math.trunc), "value"),
    "ec_floor": _s(_rounding(math.floor), "value"),
    "ec_ceil": _s(_rounding(math.ceil), "value"),
    "ec_rand": _s(_rand, "value"),
    "ec_tolower": _s(_unary(str.lower), "value"),
    "ec_toupper": _s(_unary(str.upper), "value"),
    "ec_base64_encode": _s(_unary(lambda t: base64.b64encode(t.encode("utf-8")).decode("ascii")), "value"),
    "ec_base64_decode": _s(_unary(_b64_decode), "value"),
    "qp_encode": _s(_unary(lambda t: quopri.encodestring(t.encode("utf-8")).decode("ascii")), "value"),
    "ec_rfc2047_encode": _s(_unary(lambda t: encode_header_words(t, 0)), "value"),
    "ec_rfc2047_decode": _s(_unary(decode_header_words), "value"),
    "ec_spool_space": _s(_spool_space),
    "ec_mem_usage": _s(_mem_usage),
    "ec_mime_parts": _s(_mime_parts),
    "ec_valid_mime": _s(_valid_mime),
    "ec_include": _s(_include, "value"),
    **{f"ec_get_message_{fact}": _s(_message_fact(fact)) for fact in (
        "id", "size", "mailfrom", "rcptto", "protocol", "code", "creation_time", "received_from",
        "received_from_port", "received_via", "received_via_port")},
}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()}
TESTS = {"ec_test": Spec(_ec_test, positional=("strings", "strings"), match=True)}
