"""Sieve++ data helpers: hashes, more maths, strings, type tests and MIME/DSN text.

Registered into registry.py through FUNCTIONS (each also usable as a command, its
value dropped) and TESTS. Hashes live for one run (one message in one phase):
  hash_create "h"                   -> "true" (creating an existing hash empties it)
  hash_set "h" "key" "value"        -> "true";   hash_get "h" "key" -> value or ""
  hash_keys "h" / hash_values "h"   -> string lists, in insertion order
  hash_dump "h"                     -> "true"; logs ``hash h: k=v, ...`` to the paniclog
Using a hash that was not created is a runtime error. Also: ec_mod, ec_round (half
away from zero), ec_nearbyint (half to even, the default rounding mode),
reverse_delim "delim" "text", ec_mime_boundary_create, ec_rfc2047_encode_header
"text", ec_rfc2047_encode_addresses "addresses", ec_rfc3464_delivery_status
"rcpt" "action" "status" ["diagnostic"], ec_interfaces, ec_get_message_num_retries
("0": a message in validation was never tried), ``type $var`` ("stringlist" or
"string") and the test ``is_true $var``. Pure: never touches the daemon.
"""
from __future__ import annotations

import math
import socket
import uuid
from email.utils import formataddr, getaddresses
from typing import Callable

from ...core.encodings import encode_header_words
from .ast import StringArg
from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of, number, value_fn
from .ext_momentum_throttle import as_command
from .runtime import Runtime
from .spec import Args, Spec

ValueFn = Callable[[Runtime], object]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _hashes(rt: Runtime) -> dict[str, dict[str, str]]:
    found = rt.hashes
    if found is None:
        found = rt.hashes = {}
    return found


def _hash(rt: Runtime, args: Args, name: str) -> dict[str, str]:
    found = _hashes(rt).get(name)
    if found is None:
        raise SieveRuntimeError(f"'{args.name}': no hash named {name!r} (hash_create it first)",
                                args.loc)
    return found


def _hash_create(args: Args, env) -> ValueFn:
    name_of = value_fn(env, args.positional[0])

    def hash_create(rt: Runtime) -> str:
        hashes = _hashes(rt)
        if name_of(rt) not in hashes and len(hashes) >= rt.limits.max_variables:
            raise SieveRuntimeError(f"too many hashes (limit {rt.limits.max_variables})", args.loc)
        hashes[name_of(rt)] = {}
        return "true"
    return hash_create


def _hash_set(args: Args, env) -> ValueFn:
    name_of, key_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])
    value_of = value_fn(env, args.positional[2])

    def hash_set(rt: Runtime) -> str:
        table = _hash(rt, args, name_of(rt))
        key = key_of(rt)
        if key not in table and len(table) >= rt.limits.max_string_list:
            raise SieveRuntimeError(f"hash too large (limit {rt.limits.max_string_list} keys)", args.loc)
        table[key] = value_of(rt)
        return "true"
    return hash_set


def _hash_get(args: Args, env) -> ValueFn:
    name_of, key_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])
    return lambda rt: _hash(rt, args, name_of(rt)).get(key_of(rt), "")


def _hash_list(which: str):
    def build(args: Args, env) -> ValueFn:
        name_of = value_fn(env, args.positional[0])

        def hash_list(rt: Runtime) -> list[str]:
            table = _hash(rt, args, name_of(rt))
            return list(table) if which == "keys" else list(table.values())
        return hash_list
    return build


def _hash_dump(args: Args, env) -> ValueFn:
    name_of = value_fn(env, args.positional[0])

    def hash_dump(rt: Runtime) -> str:
        name = name_of(rt)
        table = _hash(rt, args, name)
        host = host_of(rt, args)
        text = f"hash {name}: " + ", ".join(f"{k}={v}" for k, v in table.items())
        host.notes.append(f"log {text}")
        host.log(text)
        return "true"
    return hash_dump


def _binary(op: Callable[[float, float], float]):
    def build(args: Args, env) -> ValueFn:
        left, right = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

        def maths(rt: Runtime) -> str:
            a, b = number(left(rt), args), number(right(rt), args)
            if b == 0:
                raise SieveRuntimeError(f"'{args.name}': division by zero", args.loc)
            try:
                return _fmt(op(a, b))
            except (ValueError, OverflowError) as exc:
                raise SieveRuntimeError(f"'{args.name}': {exc}", args.loc) from None
        return maths
    return build


def _unary_number(op: Callable[[float], float]):
    def build(args: Args, env) -> ValueFn:
        arg = value_fn(env, args.positional[0])

        def rounding(rt: Runtime) -> str:
            try:
                return _fmt(op(number(arg(rt), args)))
            except (ValueError, OverflowError) as exc:  # inf, nan
                raise SieveRuntimeError(f"'{args.name}': {exc}", args.loc) from None
        return rounding
    return build


def _round_away(value: float) -> float:
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _reverse_delim(args: Args, env) -> ValueFn:
    delim_of, text_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def reverse_delim(rt: Runtime) -> str:
        delim, text = delim_of(rt), text_of(rt)
        return delim.join(reversed(text.split(delim))) if delim else text[::-1]
    return reverse_delim


def _encode_addresses(args: Args, env) -> ValueFn:
    items = env.strings(args.positional[0])

    def ec_rfc2047_encode_addresses(rt: Runtime) -> str:
        pairs = getaddresses(items(rt))
        return ", ".join(formataddr((name, addr), charset="utf-8") if name else addr
                         for name, addr in pairs if addr)
    return ec_rfc2047_encode_addresses


def _delivery_status(args: Args, env) -> ValueFn:
    rcpt, action, status = (value_fn(env, a) for a in args.positional[:3])
    diagnostic = value_fn(env, args.positional[3])

    def ec_rfc3464_delivery_status(rt: Runtime) -> str:
        lines = [f"Final-Recipient: rfc822; {rcpt(rt)}", f"Action: {action(rt)}",
                 f"Status: {status(rt)}"]
        if diagnostic(rt):
            lines.append(f"Diagnostic-Code: smtp; {diagnostic(rt)}")
        return "\r\n".join(lines) + "\r\n"
    return ec_rfc3464_delivery_status


def _interfaces(args: Args, env) -> ValueFn:
    return lambda rt: [name for _, name in socket.if_nameindex()]


def _type(args: Args, env) -> ValueFn:
    arg = args.positional[0]
    if not (isinstance(arg, StringArg) and arg.dollar):
        return lambda rt: "stringlist" if isinstance(arg, StringArg) and arg.bracketed else "string"
    name = arg.values[0][2:-1]
    return lambda rt: "stringlist" if rt.lists and name in rt.lists else "string"


def _is_true(args: Args, env):
    values = env.strings(args.positional[0])
    return lambda rt: any(v.strip().lower() == "true" for v in values(rt))


def _s(build, *positional: str) -> Spec:
    return Spec(build, positional=positional)


FUNCTIONS = {
    "hash_create": _s(_hash_create, "value"),
    "hash_set": _s(_hash_set, "value", "value", "value"),
    "hash_get": _s(_hash_get, "value", "value"),
    "hash_keys": _s(_hash_list("keys"), "value"),
    "hash_values": _s(_hash_list("values"), "value"),
    "hash_dump": _s(_hash_dump, "value"),
    "ec_mod": _s(_binary(math.fmod), "value", "value"),
    "ec_round": _s(_unary_number(_round_away), "value"),
    "ec_nearbyint": _s(_unary_number(round), "value"),
    "reverse_delim": _s(_reverse_delim, "value", "value"),
    "ec_mime_boundary_create": _s(lambda args, env: lambda rt: f"----=_ec_{uuid.uuid4().hex}"),
    "ec_rfc2047_encode_header": _s(lambda args, env: (lambda v: lambda rt: encode_header_words(
        v(rt), 0))(value_fn(env, args.positional[0])), "value"),
    "ec_rfc2047_encode_addresses": _s(_encode_addresses, "strings"),
    "ec_rfc3464_delivery_status": _s(_delivery_status, "value", "value", "value", "tail_value"),
    "ec_interfaces": _s(_interfaces),
    "ec_get_message_num_retries": _s(lambda args, env: lambda rt: "0"),
    "type": _s(_type, "strings"),
}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items() if name != "type"}
TESTS = {"is_true": Spec(_is_true, positional=("strings",))}
