"""Sieve++ actions (Momentum): dispositions, tarpit, vctx, headers, recipients, binding, logging.

Registered into compiler.py through COMMANDS; no ``require`` is needed (Momentum
scripts may still ``require "ec_action";``). Every action acts on the run's
PolicyHost (host.py): terminal ones (ec_action, ec_disconnect, ec_reject,
ec_discard, ec_keep) record an Outcome and end the script; phase_runner.py turns the
Outcome into the SMTP reply. Header edits go to the vctx (applied by the session
before spooling) and to the run's message view, so later reads see them. Never
sends a reply, touches a socket or reads configuration itself.
"""
from __future__ import annotations

from typing import Callable

from .ast import NumberArg, StringArg
from .errors import SieveRuntimeError
from .host import Outcome, PolicyHost
from .runtime import Runtime, StopScript
from .spec import Args, Spec

CommandFn = Callable[[Runtime], None]
TERMINAL_PHASE_ONLY = {"ec_set_binding": "set_binding", "ec_set_binding_group": "set_binding"}


def value_fn(env, arg) -> Callable[[Runtime], str]:
    """A number or string argument as a run-time string (None: always "")."""
    if arg is None:
        return lambda rt: ""
    if isinstance(arg, NumberArg):
        text = str(arg.value)
        return lambda rt: text
    if isinstance(arg, StringArg) and arg.bracketed:
        items = env.strings(arg)
        return lambda rt: ", ".join(items(rt))
    return env.string(arg)


def valid_header_name(name: str) -> bool:
    """Printable ASCII without space or ':' (what a header edit accepts)."""
    return bool(name) and name.isascii() and name.isprintable() and " " not in name and ":" not in name


def host_of(rt: Runtime, args: Args) -> PolicyHost:
    host = rt.host
    if host is None:
        raise SieveRuntimeError(f"'{args.name}' needs the daemon's validation context", args.loc)
    return host


def number(text: str, args: Args, what: str = "a number") -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise SieveRuntimeError(f"'{args.name}' expects {what}, got {text!r}", args.loc) from None


def _counter_name(host: PolicyHost, args: Args, counter: str, code: int) -> str:
    name = counter or f"{args.loc.file}:{args.loc.line}"
    label = host.script_label or host.phase
    return f"{label}:{name} ({code // 100}xx)" if code else f"{label}:{name}"


def _coded(kind: str) -> Callable[[Args, object], CommandFn]:
    """ec_action / ec_disconnect: ``<code> "<reason>" ["counter"]``."""
    def build(args: Args, env) -> CommandFn:
        code_of, reason_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])
        counter_of = value_fn(env, args.positional[2])

        def coded(rt: Runtime) -> None:
            host = host_of(rt, args)
            code = int(number(code_of(rt), args, "an SMTP code"))
            if not 200 <= code <= 599:
                raise SieveRuntimeError(f"'{args.name}': {code} is not an SMTP reply code", args.loc)
            host.terminal(Outcome(kind, code, reason_of(rt),
                                  _counter_name(host, args, counter_of(rt), code)))
            raise StopScript()
        return coded
    return build


def _reject(args: Args, env) -> CommandFn:
    reason_of, counter_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_reject(rt: Runtime) -> None:
        host = host_of(rt, args)
        host.terminal(Outcome("reject", 550, reason_of(rt), _counter_name(host, args, counter_of(rt), 550)))
        raise StopScript()
    return ec_reject


def _plain_terminal(kind: str) -> Callable[[Args, object], CommandFn]:
    def build(args: Args, env) -> CommandFn:
        reason_of = value_fn(env, args.positional[0])

        def terminal(rt: Runtime) -> None:
            host = host_of(rt, args)
            host.terminal(Outcome(kind, 0, reason_of(rt), _counter_name(host, args, "", 0)))
            raise StopScript()
        return terminal
    return build


def _tarpit(args: Args, env) -> CommandFn:
    seconds_of, counter_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_tarpit(rt: Runtime) -> None:
        host = host_of(rt, args)
        seconds = number(seconds_of(rt), args, "a number of seconds")
        counter = counter_of(rt)
        if counter:
            host.counters.inc(_counter_name(host, args, counter, 0))
        try:
            host.tarpit(min(seconds, 3600.0))
        except RuntimeError as exc:
            raise SieveRuntimeError(f"ec_tarpit: {exc}", args.loc) from None
    return ec_tarpit


def _vctx_set(which: str) -> Callable[[Args, object], CommandFn]:
    def build(args: Args, env) -> CommandFn:
        key_of, value_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

        def vctx_set(rt: Runtime) -> None:
            host_of(rt, args).vctx.set(which, key_of(rt), value_of(rt))
        return vctx_set
    return build


def _vctx_delete(which: str) -> Callable[[Args, object], CommandFn]:
    def build(args: Args, env) -> CommandFn:
        key_of = value_fn(env, args.positional[0])

        def vctx_delete(rt: Runtime) -> None:
            getattr(host_of(rt, args).vctx, which).pop(key_of(rt), None)
        return vctx_delete
    return build


def _header_edit(mode: str) -> Callable[[Args, object], CommandFn]:
    """ec_header_add (prepend a field), _prefix / _postfix (change a field's value)."""
    def build(args: Args, env) -> CommandFn:
        name_of, text_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])
        constant = env.constant(args.positional[0]) if isinstance(args.positional[0], StringArg) else None
        valid_names = frozenset(n.strip() for n in constant or () if valid_header_name(n.strip()))

        def header_edit(rt: Runtime) -> None:
            host, name, text = host_of(rt, args), name_of(rt).strip(), text_of(rt)
            if name not in valid_names and not valid_header_name(name):
                raise SieveRuntimeError(f"'{args.name}': invalid header name {name!r}", args.loc)
            if mode == "add":
                host.vctx.header_add(name, text, "prepend")
                rt.message.edit_header("prepend", name, text)
                return
            current = rt.message.raw_headers(name)
            if not current:
                return
            value = text + current[0] if mode == "prefix" else current[0] + text
            host.vctx.header_add(name, value, "replace")
            rt.message.edit_header("replace", name, value)
        return header_edit
    return build


def _header_delete(args: Args, env) -> CommandFn:
    name_of = value_fn(env, args.positional[0])

    def ec_header_delete(rt: Runtime) -> None:
        name = name_of(rt).strip()
        host_of(rt, args).vctx.header_delete(name)
        rt.message.edit_header("delete", name, None)
    return ec_header_delete


def _add_recipient(args: Args, env) -> CommandFn:
    address_of = value_fn(env, args.positional[0])

    def add_recipient(rt: Runtime) -> None:
        from ...core.envelope import Recipient
        address = address_of(rt).strip().strip("<>")
        if "@" not in address:
            raise SieveRuntimeError(f"add_recipient: invalid address {address!r}", args.loc)
        host_of(rt, args).vctx.add_recipient(Recipient(address))
    return add_recipient


def _rewrite_mailfrom(args: Args, env) -> CommandFn:
    address_of = value_fn(env, args.positional[0])

    def ec_rewrite_mailfrom(rt: Runtime) -> None:
        host = host_of(rt, args)
        address = address_of(rt).strip().strip("<>")
        envelope = getattr(host.message, "envelope", None)
        if envelope is None:
            raise SieveRuntimeError("ec_rewrite_mailfrom is only valid once the message is in "
                                    "(data, spool, each_rcpt, set_binding phases)", args.loc)
        envelope.mail_from = address
        host.mail_from = address
        rt.message.envelope["from"] = address
    return ec_rewrite_mailfrom


def _set_binding(group: bool) -> Callable[[Args, object], CommandFn]:
    def build(args: Args, env) -> CommandFn:
        name_of = value_fn(env, args.positional[0])

        def set_binding(rt: Runtime) -> None:
            host, name = host_of(rt, args), name_of(rt).strip()
            if host.phase != "set_binding":
                raise SieveRuntimeError(f"'{args.name}' is only valid in the set_binding phase "
                                        f"(this is the {host.phase} phase)", args.loc)
            cfg = host.config
            known = True
            if cfg is not None:
                known = name in cfg.binding_groups() if group else cfg.has_binding(name)
            if not known:
                host.log(f"{args.loc}: {args.name}: unknown {'binding group' if group else 'binding'} "
                         f"'{name}'; binding unchanged")
                return
            if group:
                host.vctx.set_binding_group(name)
            else:
                host.vctx.set_binding(name)
        return set_binding
    return build


def _log(args: Args, env) -> CommandFn:
    text_of = value_fn(env, args.positional[0])

    def ec_log(rt: Runtime) -> None:
        host = host_of(rt, args)
        text = text_of(rt)
        host.notes.append(f"log {text}")
        host.log(text)
    return ec_log


def _inc_counter(args: Args, env) -> CommandFn:
    name_of, by_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_inc_counter(rt: Runtime) -> None:
        host = host_of(rt, args)
        by = by_of(rt)
        host.counters.inc(name_of(rt), int(number(by, args)) if by else 1)
    return ec_inc_counter


def _spec(build, *positional: str) -> Spec:
    return Spec(build, positional=positional)


COMMANDS = {
    "ec_action": _spec(_coded("action"), "value", "value", "tail_value"),
    "ec_disconnect": _spec(_coded("disconnect"), "value", "value", "tail_value"),
    "ec_reject": _spec(_reject, "value", "tail_value"),
    "ec_discard": _spec(_plain_terminal("discard"), "tail_value"),
    "ec_keep": _spec(_plain_terminal("keep"), "tail_value"),
    "ec_tarpit": _spec(_tarpit, "value", "tail_value"),
    "vctx_conn_set": _spec(_vctx_set("conn"), "value", "value"),
    "vctx_mess_set": _spec(_vctx_set("mess"), "value", "value"),
    "vctx_conn_delete": _spec(_vctx_delete("conn"), "value"),
    "vctx_mess_delete": _spec(_vctx_delete("mess"), "value"),
    "ec_header_add": _spec(_header_edit("add"), "value", "value"),
    "ec_header_prefix": _spec(_header_edit("prefix"), "value", "value"),
    "ec_header_postfix": _spec(_header_edit("postfix"), "value", "value"),
    "ec_header_delete": _spec(_header_delete, "value"),
    "add_recipient": _spec(_add_recipient, "value"),
    "ec_rewrite_mailfrom": _spec(_rewrite_mailfrom, "value"),
    "ec_set_binding": _spec(_set_binding(False), "value"),
    "ec_set_binding_group": _spec(_set_binding(True), "value"),
    "ec_log": _spec(_log, "value"),
    "ec_inc_counter": _spec(_inc_counter, "value", "tail_value"),
}
