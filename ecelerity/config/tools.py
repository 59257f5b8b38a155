"""Command-line tools: ``validate_config`` and ``ec_dump_config``.

Console scripts (setup.py) call validate_main / dump_main; ``python -m
ecelerity.config.tools validate|dump ARGS...`` runs the same code. Problems go to
stderr one per line as ``file:line:col: message`` (warnings as ``file:line:col:
warning: message``); exit 0 when the configuration is usable, 1 when it is not, 2 on
a usage error. These tools only read: they never write a file or start anything,
and an operator never sees a bare traceback (an unexpected failure is one line,
exit 3).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from . import registry
from .errors import ConfigError, ConfigProblem

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def validate_main(argv: list[str] | None = None) -> int:
    """``validate_config [--quiet] [--strict] [-I DIR] FILE...`` or ``--list-options [--json]``."""
    parser = argparse.ArgumentParser(
        prog="validate_config", description="Check ecelerity.conf files; print every problem."
    )
    parser.add_argument("files", nargs="*", metavar="FILE")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("-I", "--search-path", action="append", default=[], metavar="DIR",
                        help="directory searched for relative includes (repeatable)")
    parser.add_argument("--list-options", action="store_true", help="print the option registry")
    parser.add_argument("--json", action="store_true", help="with --list-options: JSON output")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list_options:
        return _guarded("validate_config", lambda: _list_options(args.json))
    if args.json:
        parser.error("--json only goes with --list-options")
    if not args.files:
        parser.error("give at least one FILE (or --list-options)")
    return _guarded("validate_config", lambda: _validate_files(args))


def dump_main(argv: list[str] | None = None) -> int:
    """``ec_dump_config [--defaults] [-I DIR] FILE``: the resolved configuration as XML on stdout."""
    parser = argparse.ArgumentParser(
        prog="ec_dump_config", description="Print the resolved configuration as XML."
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--defaults", action="store_true",
                        help="also list built-in defaults of options not set globally")
    parser.add_argument("-I", "--search-path", action="append", default=[], metavar="DIR")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not print warnings")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return _guarded("ec_dump_config", lambda: _dump_file(args))


def _validate_files(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        problems = _load_problems(path, args.search_path)
        if problems is None:
            continue
        errors = [p for p in problems if p.severity == "error" or args.strict]
        for problem in problems:
            if problem.severity == "warning" and args.quiet and not args.strict:
                continue
            print(problem, file=sys.stderr)
        if errors:
            status = EXIT_INVALID
    return status


def _load_problems(path: str, search_path: list[str]) -> list[ConfigProblem] | None:
    """All problems of one file (errors and warnings), None when it has none."""
    from .loader import load_config

    try:
        config = load_config(path, search_path=search_path or None)
    except ConfigError as exc:
        return list(getattr(exc, "all_problems", exc.problems))
    except OSError as exc:
        return [ConfigProblem(None, f"{path}: cannot read: {exc.strerror or exc}")]
    return list(getattr(config, "warnings", [])) or None


def _dump_file(args: argparse.Namespace) -> int:
    from .dump import dump_xml
    from .loader import load_config

    try:
        config = load_config(args.file, search_path=args.search_path or None)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    if not args.quiet:
        for warning in getattr(config, "warnings", []):
            print(warning, file=sys.stderr)
    sys.stdout.buffer.write(dump_xml(config, include_defaults=args.defaults))
    sys.stdout.flush()
    return EXIT_OK


def _list_options(as_json: bool) -> int:
    if as_json:
        print(json.dumps(registry.options_as_json(), indent=2, sort_keys=False, default=str))
        return EXIT_OK
    for spec in sorted(registry.all_options(), key=lambda s: s.name):
        flags = "" if spec.implemented else "  [not implemented yet]"
        default = "unset" if spec.default is None else _render_default(spec)
        print(f"{spec.name}  {spec.type.name}  default={default}  "
              f"scopes={','.join(sorted(spec.scopes))}{flags}")
        if spec.doc:
            print(f"    {spec.doc}")
    return EXIT_OK


def _render_default(spec) -> str:
    try:
        return spec.type.render(spec.default)
    except Exception:  # noqa: BLE001 - listing must not die on one odd default
        return str(spec.default)


def _guarded(program: str, action: Callable[[], int]) -> int:
    """Run a tool body; turn any unexpected exception into one line on stderr (exit 3)."""
    try:
        return action()
    except BrokenPipeError:
        return EXIT_OK  # `| head` closed the pipe: not an error
    except KeyboardInterrupt:
        return EXIT_INTERNAL
    except Exception as exc:  # noqa: BLE001 - never a bare traceback to an operator
        print(f"{program}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    """``python -m ecelerity.config.tools validate|dump ARGS...``."""
    argv = sys.argv[1:] if argv is None else argv
    commands = {"validate": validate_main, "validate_config": validate_main,
                "dump": dump_main, "ec_dump_config": dump_main}
    if not argv or argv[0] not in commands:
        print("usage: python -m ecelerity.config.tools {validate|dump} ARGS...", file=sys.stderr)
        return EXIT_USAGE
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
