"""Offline policy tester: ``python -m ecelerity.policy.sieve test SCRIPT MESSAGE.eml``.

Compiles and runs a script outside the daemon as the daemon would run it in the
validation phase ``--phase`` (default data) for a client at ``--peer``: before
data the script sees no message (as in the daemon), ``--to`` is the recipient being
validated in rcptto/each_rcpt, phase-only actions (ec_set_binding: set_binding)
keep their restrictions, and the text output shows the reply the client would get
(reject after DATA: 250 and a rejection notice, Momentum's MDN), the context and
header changes, and what would be injected (nothing is: no spool offline). Sieve++
functions act on a detached validation context: a tarpit is recorded, not slept.
``--list-functions`` prints every command, test and Sieve++ function that exists. With
``--json`` prints exactly ``{"error": null|"compile"|"runtime", "actions": [...]}``.
Exit status: 0 ran, 1 runtime error, 2 compile error (file:line:col on stderr),
3 unreadable input. Never prints a traceback for a bad script.
"""
from __future__ import annotations

import argparse
import json
import sys

from .compiler import compile_script
from .engine import SieveResult
from .errors import SieveCompileError

PHASES = ("accept", "connect", "ehlo", "mailfrom", "rcptto", "data", "spool", "each_rcpt",
          "set_binding")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecelerity sieve", description="Sieve policy tools")
    parser.add_argument("--list-functions", action="store_true",
                        help="print every Sieve command, test and Sieve++ function that exists")
    sub = parser.add_subparsers(dest="command")
    test = sub.add_parser("test", help="run SCRIPT over MESSAGE and print the actions")
    test.add_argument("script")
    test.add_argument("message")
    test.add_argument("--from", dest="envelope_from", default="", help="envelope sender")
    test.add_argument("--to", dest="envelope_to", default="", help="envelope recipient")
    test.add_argument("--phase", choices=PHASES, default="data",
                      help="validation phase whose semantics apply (default data)")
    test.add_argument("--peer", default="127.0.0.1", help="client IP (peer_ip, ec_ip_*, ...)")
    test.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _describe(action: dict) -> str:
    kind = action["action"]
    detail = {"fileinto": action.get("mailbox"), "redirect": action.get("address"),
              "reject": action.get("reason")}.get(kind)
    text = kind + (" (implicit)" if action.get("implicit") else "")
    if detail is not None:
        text += f" {detail!r}"
    if action.get("flags"):
        text += f" flags={' '.join(action['flags'])}"
    return text


def run_test(args: argparse.Namespace) -> int:
    try:
        with open(args.script, encoding="utf-8") as handle:
            source = handle.read()
        with open(args.message, "rb") as handle:
            raw = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"ecelerity sieve: cannot read input: {exc}", file=sys.stderr)
        return 3
    try:
        script = compile_script(source, args.script)
    except SieveCompileError as exc:
        print(str(exc), file=sys.stderr)
        result, host, reply = SieveResult("compile", []), None, None
    else:
        result, host, reply = run_in_phase(script, raw, args)
        if result.message:
            print(result.message, file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        print(f"result: {'ok' if result.error is None else result.error + ' error'}")
        for action in result.actions:
            print(f"  {_describe(action)}")
        if host is not None:
            print("\n".join(_effects(host, reply, args.phase)))
    return {None: 0, "runtime": 1, "compile": 2}[result.error]


def run_in_phase(script, raw: bytes, args: argparse.Namespace):
    """Run ``script`` as the daemon's ``args.phase`` would; returns (result, host, reply)."""
    from ...core.envelope import Envelope, Recipient
    from ...policy.vctx import ValidationContext
    from ...smtp.accept import InboundMessage
    from ...smtp.headers import split_message
    from .host import PolicyHost
    from .phase_runner import MESSAGE_PHASES, PhaseScripts, apply_to_vctx, build_view, run_phase

    vctx = ValidationContext(can_tarpit=False)
    vctx.conn["peer_ip"] = args.peer
    recipient = Recipient(args.envelope_to) if args.envelope_to else None
    message = None
    if args.phase in MESSAGE_PHASES:
        envelope = Envelope(mail_from=args.envelope_from, recipients=[recipient] if recipient else [],
                            peer_ip=args.peer)
        message = InboundMessage(envelope, "offline", split_message(raw))
        vctx.recipients = list(envelope.recipients)
    logged: list[str] = []
    host = PolicyHost(vctx, phase=args.phase, message=message, mail_from=args.envelope_from,
                      peer_ip=args.peer, message_id="offline", can_sleep=False, log=logged.append,
                      recipient=recipient if args.phase in ("rcptto", "each_rcpt") else None)
    view = build_view(args.phase, host, message)
    if not view.envelope["to"]:
        view.envelope["to"] = args.envelope_to
    outcome = run_phase(PhaseScripts(args.phase, script), host, view)
    error = "runtime" if outcome.errors else None
    actions = [{"action": "keep", "implicit": True}] if error else outcome.actions
    result = SieveResult(error, actions, outcome.errors[0] if outcome.errors else None)
    apply_to_vctx(outcome, vctx, host, reject_mode="mdn")
    if vctx.discarded:
        reply = "250 2.0.0 OK (discarded" + (", rejection notice sent)" if host.injected else ")")
    elif vctx.code is not None:
        code = vctx.code
        reply = " ".join(str(p) for p in (code.code, code.enhanced, code.text) if p)
    else:
        reply = "250 (accepted by this policy; the phase goes on)"
    return result, host, reply


def _effects(host, reply: str | None, phase: str) -> list[str]:
    vctx = host.vctx
    lines = [f"reply ({phase}): {reply}"]
    if vctx.disconnect_reply is not None:
        lines.append("  then the session is closed")
    lines += [f"context conn {k} = {v}" for k, v in vctx.conn.items() if k != "peer_ip"]
    lines += [f"context mess {k} = {v}" for k, v in vctx.mess.items()]
    lines += [f"header {e.mode} {e.name}" + (f": {e.value}" if e.value is not None else "")
              for e in vctx.header_edits]
    if vctx.binding or vctx.binding_group:
        lines.append(f"binding {vctx.binding or ''} group {vctx.binding_group or ''}".rstrip())
    if host.recipient is not None or host.message is not None:
        lines.append("recipients " + ", ".join(
            r.address for r in ([host.recipient] if host.recipient is not None else vctx.recipients)))
    lines += [f"inject <{f}> -> {', '.join(r)} ({len(d)} bytes)" for f, r, d in host.injected or []]
    lines += [f"note {n}" for n in host.notes if not n.startswith("inject ")]
    return lines


def list_functions() -> list[str]:
    """``kind name`` lines: function, command, test, family; then ``missing name: why``."""
    from .registry import list_functions as listing
    return listing()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_functions:
        print("\n".join(list_functions()))
        return 0
    if args.command is None:
        parser.error("a command is required (test), or --list-functions")
    return run_test(args)
