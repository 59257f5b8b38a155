"""Sieve++ functions that reach the daemon: files, maildirs, DNS, injection, routing.

Registered into registry.py (FUNCTIONS, also usable as commands). All act through
the run's PolicyHost (host.py); offline (no app) injection is recorded, not done.
(ec_dns_lookup is ext_momentum_dns.py.)
  ec_log_file "path" "text"          append one line to a file          -> "true"
  ec_maildir "dir"                   deliver a copy of the message into a maildir
                                     (written in tmp/, fsynced, renamed into new/)
  generate_mail_raw "from" "to(s)" "raw message"   inject a new message -> batch id
  ec_forward "address"               inject a copy of this message      -> batch id
  ec_set_routing_gateway "host[:port]"   mess context key ``routing_gateway:<recipient>``
                                     (rcptto/each_rcpt: that recipient only), else
                                     ``routing_gateway`` (the whole message); read by
                                     delivery/routes.py ``message_gateway``
  ec_trace_context ["text"]          prepend ``X-Trace-Context: <id> <peer> [text]``
  ec_error_mode "fail"|"continue"    the runtime_error disposition of this run
  advertize_esmtp_capability "KW" / disable_esmtp_capability "KW"  (connect, ehlo)
  ec_cluster_cache_set "cache" "key" "value" / ec_cluster_cache_get "cache" "key"
                                     node-local: there is no cluster
  ``$x = envelope "from"|"to"|"auth"`` and ``$x = redirect "a@b"`` (function forms)
Never blocks the hub: file and spool writes run in the calling session greenlet.
"""
from __future__ import annotations

import os
import socket
import time
from typing import Callable

from .actions import COMMANDS as STANDARD_COMMANDS
from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of, valid_header_name, value_fn
from .ext_momentum_throttle import as_command
from .runtime import Runtime
from .spec import Args, Spec

ValueFn = Callable[[Runtime], object]
_maildir_seq = 0


def _message_bytes(rt: Runtime, args: Args) -> bytes:
    host = host_of(rt, args)
    if host.message is None and not rt.message.size:
        raise SieveRuntimeError(f"'{args.name}' needs the message (data, spool, each_rcpt, "
                                "set_binding phases)", args.loc)
    return rt.message.raw


def _log_file(args: Args, env) -> ValueFn:
    path_of, text_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_log_file(rt: Runtime) -> str:
        path, text = path_of(rt), text_of(rt)
        host_of(rt, args).notes.append(f"log_file {path} {text}")
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(text.rstrip("\r\n") + "\n")
        except OSError as exc:
            raise SieveRuntimeError(f"ec_log_file: cannot write {path!r}: {exc.strerror}", args.loc) from None
        return "true"
    return ec_log_file


def write_maildir(directory: str, data: bytes) -> str:
    """Deliver ``data`` into the maildir ``directory``; returns the file's path in new/."""
    global _maildir_seq
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    _maildir_seq += 1
    now = time.time()
    name = f"{int(now)}.M{int(now * 1e6) % 1000000}P{os.getpid()}Q{_maildir_seq}.{socket.gethostname()}"
    tmp, new = os.path.join(directory, "tmp", name), os.path.join(directory, "new", name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, new)
    dir_fd = os.open(os.path.join(directory, "new"), os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return new


def _maildir(args: Args, env) -> ValueFn:
    path_of = value_fn(env, args.positional[0])

    def ec_maildir(rt: Runtime) -> str:
        data, directory = _message_bytes(rt, args), path_of(rt)
        try:
            path = write_maildir(directory, data)
        except OSError as exc:
            raise SieveRuntimeError(f"ec_maildir: cannot deliver into {directory!r}: "
                                    f"{exc.strerror or exc}", args.loc) from None
        host_of(rt, args).notes.append(f"maildir {path}")
        return "true"
    return ec_maildir


def _generate_mail_raw(args: Args, env) -> ValueFn:
    from_of, to_of = value_fn(env, args.positional[0]), env.strings(args.positional[1])
    raw_of = value_fn(env, args.positional[2])

    def generate_mail_raw(rt: Runtime) -> str:
        host = host_of(rt, args)
        rcpts = [r.strip().strip("<>") for item in to_of(rt) for r in item.split(",") if r.strip()]
        if not rcpts or any("@" not in r for r in rcpts):
            raise SieveRuntimeError(f"generate_mail_raw: invalid recipients {rcpts!r}", args.loc)
        text = raw_of(rt).replace("\r\n", "\n").replace("\n", "\r\n")
        try:
            return host.inject(from_of(rt).strip().strip("<>"), rcpts, text.encode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - spool full/unavailable: the script's error
            raise SieveRuntimeError(f"generate_mail_raw: {exc}", args.loc) from None
    return generate_mail_raw


def _forward(args: Args, env) -> ValueFn:
    address_of = value_fn(env, args.positional[0])

    def ec_forward(rt: Runtime) -> str:
        host, data = host_of(rt, args), _message_bytes(rt, args)
        address = address_of(rt).strip().strip("<>")
        if "@" not in address:
            raise SieveRuntimeError(f"ec_forward: invalid address {address!r}", args.loc)
        try:
            return host.inject(host.mail_from, [address], data)
        except Exception as exc:  # noqa: BLE001 - see generate_mail_raw
            raise SieveRuntimeError(f"ec_forward: {exc}", args.loc) from None
    return ec_forward


def _routing_gateway(args: Args, env) -> ValueFn:
    gateway_of = value_fn(env, args.positional[0])

    def ec_set_routing_gateway(rt: Runtime) -> str:
        gateway = gateway_of(rt).strip()
        if not gateway or any(c.isspace() for c in gateway):
            raise SieveRuntimeError(f"ec_set_routing_gateway: invalid gateway {gateway!r}", args.loc)
        host = host_of(rt, args)
        recipient = getattr(host.recipient, "address", None)
        key = f"routing_gateway:{recipient.lower()}" if recipient else "routing_gateway"
        host.vctx.mess[key] = gateway
        return "true"
    return ec_set_routing_gateway


def _trace_context(args: Args, env) -> ValueFn:
    text_of = value_fn(env, args.positional[0])

    def ec_trace_context(rt: Runtime) -> str:
        host = host_of(rt, args)
        value = " ".join(p for p in (host.message_id or "-", host.peer_ip or "-", text_of(rt)) if p)
        host.vctx.header_add("X-Trace-Context", value, "prepend")
        rt.message.edit_header("prepend", "X-Trace-Context", value)
        return "true"
    return ec_trace_context


def _error_mode(args: Args, env) -> ValueFn:
    mode_of = value_fn(env, args.positional[0])

    def ec_error_mode(rt: Runtime) -> str:
        mode = mode_of(rt).strip().lower()
        if mode not in ("fail", "continue"):
            raise SieveRuntimeError(f"ec_error_mode: expected \"fail\" or \"continue\", not {mode!r}",
                                    args.loc)
        host_of(rt, args).error_mode = mode
        return "true"
    return ec_error_mode


def _capability(action: str):
    def build(args: Args, env) -> ValueFn:
        keyword_of = value_fn(env, args.positional[0])

        def capability(rt: Runtime) -> str:
            keyword = keyword_of(rt).strip()
            if not valid_header_name(keyword.replace("=", "").replace("-", "").split(" ")[0]):
                raise SieveRuntimeError(f"'{args.name}': invalid capability {keyword!r}", args.loc)
            host_of(rt, args).vctx.capability_edits.append((action, keyword))
            return "true"
        return capability
    return build


def _cluster_cache(app) -> dict[tuple[str, str], str]:
    return app.__dict__.setdefault("sieve_cluster_cache", {}) if app is not None else {}


def _cache_set(args: Args, env) -> ValueFn:
    cache_of, key_of, value_of = (value_fn(env, a) for a in args.positional[:3])

    def ec_cluster_cache_set(rt: Runtime) -> str:
        host = host_of(rt, args)
        store = _cluster_cache(host.app) if host.app is not None else host.__dict__.setdefault(
            "_cluster_cache", {})
        store[(cache_of(rt), key_of(rt))] = value_of(rt)
        return "true"
    return ec_cluster_cache_set


def _cache_get(args: Args, env) -> ValueFn:
    cache_of, key_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_cluster_cache_get(rt: Runtime) -> str:
        host = host_of(rt, args)
        store = _cluster_cache(host.app) if host.app is not None else host.__dict__.get(
            "_cluster_cache", {})
        return store.get((cache_of(rt), key_of(rt)), "")
    return ec_cluster_cache_get


def _envelope_fn(args: Args, env) -> ValueFn:
    part_of = value_fn(env, args.positional[0])

    def envelope(rt: Runtime) -> list[str]:
        part, host = part_of(rt).strip().lower(), rt.host
        if part == "to" and host is not None:
            if host.recipient is not None:
                return [host.recipient.address]
            if host.vctx.recipients:
                return [r.address for r in host.vctx.recipients]
        if part not in ("from", "to", "auth"):
            raise SieveRuntimeError(f"envelope: unknown part {part!r} (from, to or auth)", args.loc)
        return [rt.message.envelope.get(part, "")]
    return envelope


def _redirect_fn(args: Args, env) -> ValueFn:
    command = STANDARD_COMMANDS["redirect"].build(args, env)

    def redirect(rt: Runtime) -> str:
        command(rt)
        return "true"
    return redirect


def _s(build, *positional: str) -> Spec:
    return Spec(build, positional=positional)


FUNCTIONS = {
    "ec_log_file": _s(_log_file, "value", "value"),
    "ec_maildir": _s(_maildir, "value"),
    "generate_mail_raw": _s(_generate_mail_raw, "value", "strings", "value"),
    "ec_forward": _s(_forward, "value"),
    "ec_set_routing_gateway": _s(_routing_gateway, "value"),
    "ec_trace_context": _s(_trace_context, "tail_value"),
    "ec_error_mode": _s(_error_mode, "value"),
    "advertize_esmtp_capability": _s(_capability("add"), "value"),
    "disable_esmtp_capability": _s(_capability("remove"), "value"),
    "ec_cluster_cache_set": _s(_cache_set, "value", "value", "value"),
    "ec_cluster_cache_get": _s(_cache_get, "value", "value"),
    "envelope": _s(_envelope_fn, "value"),
    "redirect": Spec(_redirect_fn, tags={"copy": ""}, positional=("string",)),
}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()
            if name not in ("envelope", "redirect")}
