"""Offline policy tester: ``python -m ecelerity.policy.sieve test SCRIPT MESSAGE.eml``.

Compiles and runs a script outside the daemon and prints the actions (Sieve++
functions act on a detached validation context: a tarpit is recorded, not slept).
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
from .engine import SieveResult, run_script
from .errors import SieveCompileError
from .message_view import MessageView

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
                      help="validation phase (accepted; phase semantics: use the sieve:<inst> test console command)")
    test.add_argument("--peer", default="127.0.0.1", help="client IP (for Sieve++ functions)")
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
        result = SieveResult("compile", [])
    else:
        result = run_script(script, MessageView(raw, args.envelope_from, args.envelope_to))
        if result.message:
            print(result.message, file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_json()))
    else:
        print(f"result: {'ok' if result.error is None else result.error + ' error'}")
        for action in result.actions:
            print(f"  {_describe(action)}")
    return {None: 0, "runtime": 1, "compile": 2}[result.error]


def list_functions() -> list[str]:
    """``kind name`` lines: command, test or function (Sieve++ value functions)."""
    from .compiler import COMMANDS, FUNCTIONS, TESTS
    lines = [f"function {name}" for name in FUNCTIONS]
    lines += [f"command {name}" for name in COMMANDS if name not in FUNCTIONS]
    lines += [f"test {name}" for name in TESTS]
    return sorted(lines, key=lambda line: line.split(" ", 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_functions:
        print("\n".join(list_functions()))
        return 0
    if args.command is None:
        parser.error("a command is required (test), or --list-functions")
    return run_test(args)
