"""Offline tester for Lua policy scripts: run each registered hook on one message.

    python -m ecelerity.policy.lua test SCRIPT MESSAGE.eml --from A --to B [--engine luajit|lua54]
    python -m ecelerity.policy.lua --list-functions

``test`` loads SCRIPT (its directory is the script path), then plays the SMTP
phases in Momentum's order (connect, ehlo, mailfrom, rcptto per recipient, data,
data_spool, data_spool_each_rcpt per recipient, set_binding) against an offline
vctx/msg (bindings.py) and prints, per hook, what it returned and what it
changed (code, disconnect, context variables, headers, envelope), plus every
line the script printed. Exit status: 0 accepted, 1 rejected by a hook, 2 script
error or bad usage. Never touches the spool or the network.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from .bindings import LuaBindings, OfflineAccept, OfflineMessage, OfflineVctx
from .libraries import FUNCTION_NAMES
from .lib_httpsrv import SESSION_METHODS
from .registry import CALLOUTS, VALIDATE_DONE
from .runtime import LuaRuntime, ScriptError


def _phases(b: LuaBindings, msg: OfflineMessage, vctx: OfflineVctx, accept: OfflineAccept,
            ehlo: str, mailfrom: str, rcpts: list[str]) -> list[tuple[str, Callable[[], tuple]]]:
    proxies = (b.msg(msg), b.accept(accept), b.vctx(vctx))
    m, ac, vc = proxies
    steps = [("validate_connect", lambda: (ac, vc)),
             ("validate_ehlo", lambda: (ehlo.encode(), ac, vc)),
             ("validate_mailfrom", lambda: (f"MAIL FROM:<{mailfrom}>".encode(), ac, vc))]
    steps += [("validate_rcptto", lambda r=r: (m, f"RCPT TO:<{r}>".encode(), ac, vc)) for r in rcpts]
    steps += [("validate_data", lambda: (m, ac, vc)), ("validate_data_spool", lambda: (m, ac, vc))]
    steps += [("validate_data_spool_each_rcpt", lambda: (m, ac, vc)) for _ in rcpts]
    steps += [("validate_set_binding", lambda: (m,))]
    return steps


def run_test(script: str, message_path: str, mailfrom: str, rcpts: list[str],
             engine: str | None, out: Any) -> int:
    printed: list[str] = []
    runtime = LuaRuntime(engine, paniclog=lambda module, text: printed.append(text),
                         script_path=[str(Path(script).resolve().parent)])
    out.write(f"engine: {runtime.version}\n")
    try:
        runtime.load_file(script)
    except ScriptError as exc:
        out.write(f"error: {exc}\n")
        return 2
    if not runtime.registry.modules:
        out.write("error: the script registered no module (msys.registerModule)\n")
        return 2
    out.write("modules: " + ", ".join(
        f"{m.name} ({', '.join(sorted(m.hooks))})" for m in runtime.registry.modules.values()) + "\n")
    vctx = OfflineVctx()
    raw = Path(message_path).read_bytes()
    msg = OfflineMessage(raw, mailfrom=mailfrom, rcptto=rcpts[0] if rcpts else "", vctx=vctx)
    bindings = LuaBindings(runtime)
    status = 0
    for hook, make_args in _phases(bindings, msg, vctx, OfflineAccept(), "offline.test",
                                   mailfrom, rcpts):
        before = (dict(vctx.conn), dict(vctx.mess), list(msg.headers), msg.mailfrom(), msg.rcptto())
        outcome = runtime.registry.run_hook(hook, *make_args())
        for line in printed:
            out.write(f"  print: {line}\n")
        printed.clear()
        for run in outcome.runs:
            verdict = run.failed or ("DONE" if run.value == VALIDATE_DONE else f"CONT ({run.value})")
            out.write(f"{run.module}:{hook} -> {verdict}\n")
        _report_changes(out, before, vctx, msg)
        if outcome.failed:
            out.write(f"  script error: {outcome.failed}\n")
            return 2
        if vctx.code is not None or vctx.disconnect_reply is not None or msg.discarded:
            reply = vctx.disconnect_reply or vctx.code
            if msg.discarded:
                out.write(f"  discarded: {msg.discarded}\n")
            if reply is not None:
                out.write(f"  reply: {reply[0]} {reply[1]}\n")
            vctx.code = None
            if (reply and reply[0] >= 400) or msg.discarded or vctx.disconnect_reply:
                status = 1
                break
    out.write("result: " + ("rejected" if status else "accepted") + "\n")
    return status


def _report_changes(out: Any, before: tuple, vctx: OfflineVctx, msg: OfflineMessage) -> None:
    conn, mess, headers, mailfrom, rcptto = before
    for label, old, new in (("conn", conn, vctx.conn), ("mess", mess, vctx.mess)):
        for key in sorted(new):
            if old.get(key) != new[key]:
                out.write(f"  vctx {label}.{key} = {new[key]!r}\n")
    if headers != msg.headers:
        out.write("  headers now: " + "; ".join(
            f"{n}: {v.decode('utf-8', 'replace')}" for n, v in msg.headers) + "\n")
    if mailfrom != msg.mailfrom():
        out.write(f"  mailfrom = {msg.mailfrom()!r}\n")
    if rcptto != msg.rcptto():
        out.write(f"  rcptto = {msg.rcptto()!r}\n")



# Methods of objects made by library functions (their classes live in those libraries).
LIBRARY_METHODS = (
    ["doc:root", "doc:tostring", "doc:xpath"]
    + [f"node:{m}" for m in ("addchild", "attribute", "children", "contents", "doc", "name",
                             "tostring", "unlink")]
    + [f"c:{m}" for m in ("setopt", "perform", "getinfo", "close")]
    + [f"client:{m}" for m in ("do_request", "get_body", "get_headers", "get_status",
                               "parse_headers", "set_header", "set_timeout")]
    + ["mutex:lock", "mutex:unlock", "mutex:trylock"]
    + [f"session:{m}" for m in SESSION_METHODS])


def method_names() -> list[str]:
    """vctx:/msg:/ac:/msgpart: methods (the live tables), msgpart fields, msg.id & co,
    and the methods of library-made objects."""
    from .bindings_real import LiveMethods
    methods = LiveMethods.__new__(LiveMethods)  # building the tables needs no runtime
    names = [f"{prefix}:{name}" for prefix, table in (
        ("vctx", methods.vctx_table()), ("msg", methods.msg_table()),
        ("ac", methods.accept_table()), ("msgpart", methods.part_table())) for name in table]
    names += [f"msgpart.{name}" for name in methods.part_fields()]
    names += ["msg.id", "msg.conn_id", "msg.batch_id"]
    return sorted(names) + LIBRARY_METHODS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecelerity.policy.lua",
                                     description="Lua policy scripts: offline tester")
    parser.add_argument("--list-functions", action="store_true",
                        help="print the msys.*/json.* functions and hooks that exist")
    sub = parser.add_subparsers(dest="command")
    test = sub.add_parser("test", help="run a script's hooks against one message")
    test.add_argument("script")
    test.add_argument("message")
    test.add_argument("--from", dest="mailfrom", default="")
    test.add_argument("--to", dest="rcpts", action="append", default=[])
    test.add_argument("--engine", choices=["luajit", "lua54"], default=None)
    args = parser.parse_args(argv)
    if args.list_functions:
        for name in FUNCTION_NAMES + method_names():
            print(name)
        for hook, signature in CALLOUTS.items():
            print(f"mod:{hook}{signature}")
        return 0
    if args.command != "test":
        parser.print_usage(sys.stderr)
        return 2
    try:
        return run_test(args.script, args.message, args.mailfrom, args.rcpts or [], args.engine,
                        sys.stdout)
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
