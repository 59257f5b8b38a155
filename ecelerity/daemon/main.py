"""The ``ecelerity`` command: check the configuration, prepare the process, run the App.

Usage::

    ecelerity [-c FILE] [--foreground] [--pidfile PATH] [--check]

``-c`` defaults to ``conf/ecelerity.conf``. Start-up order: load the configuration
(every error printed, exit 2) -> ``--check`` stops here -> create and probe the spool
directory -> detach (daemon/detach.py; unless ``--foreground``: double fork + setsid;
the first process waits on a pipe until the daemon is ready or has failed, and exits
with the daemon's start-up status, printing its error) -> take the pidfile -> open the
paniclog (both daemon/process_files.py) ->
start the services (spool, queue, modules, SMTP and control listeners) -> when started
as root, hand the files created so far to the Security user and drop to it
(daemon/privileges.py: after every bind, before anything is served) -> install signal
handlers -> run the gevent hub until SIGTERM/SIGINT or the ``shutdown`` command.

Exit status: 0 clean shutdown (or ``--check`` passed); 1 start-up failure (spool not
writable, pidfile held, an address in use, internal error); 2 invalid configuration
or command line.

Paths: relative paths in the configuration (spoolbase, pidfile, log files, unix
socket paths) are relative to the directory ``ecelerity`` was started from; the
daemon does not chdir, also when it detaches. Parent directories are created.
The paniclog is the ``paniclog`` setting of the first ``ec_logger`` module stanza
that has one, else ``<spoolbase>/../log/paniclog.ec`` (``var/spool`` ->
``var/log/paniclog.ec``).

Worker processes: with ``worker_processes`` above 1 the detached process becomes the
supervisor (daemon/supervisor.py) instead of running the App itself; it starts the
workers as ``ecelerity -c FILE --foreground --worker I/N --worker-dir DIR --report-fd FD``
(options hidden from --help: only the supervisor uses them), which run the App through
daemon/workers.py. The supervisor keeps root (it restarts workers, which bind
privileged ports again); each worker drops privileges after its own binds.

Never prints a traceback: an unexpected error is one line on stderr, the traceback
goes to the paniclog.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

import ecelerity
from ecelerity.config.errors import ConfigError
from ecelerity.log.paniclog import DEFAULT_MODE

from .detach import EXIT_BAD_CONFIG, EXIT_OK, EXIT_STARTUP_FAILED, StartupReporter, daemonize
from .pidfile import PidFileError
from .process_files import ProcessFiles
from .service import StartupError

__all__ = ["EXIT_OK", "EXIT_STARTUP_FAILED", "EXIT_BAD_CONFIG", "StartupReporter", "daemonize",
           "RuntimePaths", "build_parser", "main", "paniclog_settings", "prepare_spool", "run",
           "runtime_paths"]
DEFAULT_CONFIG = "conf/ecelerity.conf"


@dataclass(frozen=True)
class RuntimePaths:
    spool: str
    pidfile: str
    paniclog: str
    paniclog_mode: int


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecelerity", description="Momentum-compatible MTA daemon.",
        epilog="exit status: 0 ok, 1 start-up failure, 2 invalid configuration or usage")
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, metavar="FILE",
                        help=f"configuration file (default {DEFAULT_CONFIG})")
    parser.add_argument("--foreground", "-F", action="store_true", help="do not detach")
    parser.add_argument("--pidfile", metavar="PATH", help="override the pidfile option")
    parser.add_argument("--check", action="store_true", help="validate the configuration and exit")
    parser.add_argument("--version", action="version", version=f"ecelerity {ecelerity.__version__}")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # I/N: run as worker I of N
    parser.add_argument("--worker-dir", help=argparse.SUPPRESS)  # the workers' sockets and leases
    parser.add_argument("--report-fd", type=int, help=argparse.SUPPRESS)  # start-up status pipe
    return parser


def paniclog_settings(cfg: Any, spoolbase: str) -> tuple[str, int]:
    for module in cfg.modules():
        if module.module == "ec_logger" and module.settings.get("paniclog"):
            mode = module.settings.get("paniclog_mode")
            return str(module.settings["paniclog"]), mode if isinstance(mode, int) else DEFAULT_MODE
    base = os.path.dirname(os.path.normpath(spoolbase))
    return os.path.join(base, "log", "paniclog.ec"), DEFAULT_MODE


def runtime_paths(cfg: Any, pidfile_override: str | None) -> RuntimePaths:
    spool = str(cfg.get("spoolbase"))
    paniclog, mode = paniclog_settings(cfg, spool)
    return RuntimePaths(spool, pidfile_override or str(cfg.get("pidfile")), paniclog, mode)


def prepare_spool(path: str) -> None:
    """Create the spool directory and prove we can write in it; StartupError if not."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise StartupError(f"spool directory '{path}' is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create spool directory '{path}': {exc.strerror or exc}") from None
    probe = os.path.join(path, f".ecelerity-write-test-{os.getpid()}")
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise StartupError(f"spool directory '{path}' is not writable: {exc.strerror or exc}") from None


def run(cfg: Any, config_path: str, paths: RuntimePaths, reporter: StartupReporter) -> int:
    """Everything after detaching: pidfile and paniclog (process_files.py), App, signals,
    the hub."""
    from .app import App
    from .heap import freeze_startup_heap
    from .signals import install_signal_handlers, remove_signal_handlers

    from .privileges import become, resolve_identity

    try:
        identity, identity_note = resolve_identity(cfg)
    except StartupError as exc:
        return reporter.fail(exc.exit_code, str(exc))
    files = ProcessFiles(paths)
    try:
        paniclog = files.open(f"starting ecelerity {ecelerity.__version__} (pid {os.getpid()}, "
                              f"config {config_path})", cfg)
    except PidFileError as exc:
        return reporter.fail(EXIT_STARTUP_FAILED, str(exc))
    if identity_note:
        paniclog.write("ecelerity", identity_note)
    started: list[Any] = []  # the App once start() returned (App.start stops its own failures)
    try:
        app = App(cfg, config_path=config_path, paniclog=paniclog)
        app.start()
        started.append(app)
        # everything is bound and nothing served yet (see daemon/privileges.py)
        dropped = become(identity, app, cfg, extra_paths=[paths.pidfile, paths.paniclog],
                         trees=[paths.spool])
        if dropped:
            paniclog.write("ecelerity", dropped)
        handles = install_signal_handlers(app)
    except Exception as exc:  # noqa: BLE001 - one line for the operator, details in the paniclog
        _stop_started(started)
        code = exc.exit_code if isinstance(exc, StartupError) else EXIT_STARTUP_FAILED
        return reporter.fail(code, files.startup_failed(exc))
    paniclog.start_flusher()
    freeze_startup_heap()
    paniclog.write("ecelerity", "started")
    reporter.ready(f"version {ecelerity.__version__} running (pid {os.getpid()}); "
                   f"paniclog {paths.paniclog}")
    try:
        app.wait_for_shutdown()
        app.stop()
    finally:
        remove_signal_handlers(handles)
        files.stopped()
    return EXIT_OK


def _stop_started(started: list[Any]) -> None:
    """Stop an App whose start() returned but whose start-up failed afterwards."""
    for app in started:
        app.stop()


# Offline policy tools reachable as `ecelerity sieve ...` / `ecelerity lua ...`
# (they never start a daemon): the subcommand's own main() takes the rest.
POLICY_TOOLS = {
    "sieve": "ecelerity.policy.sieve.cli",
    "lua": "ecelerity.policy.lua.cli",
}


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] and argv[0] in POLICY_TOOLS:
        import importlib

        return importlib.import_module(POLICY_TOOLS[argv[0]]).main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        from ecelerity.config.loader import load_config

        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        sys.stderr.write(f"ecelerity: configuration '{args.config}' is invalid "
                         f"({len(exc.problems)} error{'s' if len(exc.problems) != 1 else ''})\n")
        return EXIT_BAD_CONFIG
    except OSError as exc:
        sys.stderr.write(f"ecelerity: cannot read configuration '{args.config}': "
                         f"{exc.strerror or exc}\n")
        return EXIT_BAD_CONFIG
    if args.check:
        for warning in getattr(cfg, "warnings", []):
            sys.stderr.write(f"{warning}\n")
        sys.stderr.write(f"ecelerity: configuration '{args.config}' is valid\n")
        return EXIT_OK
    if args.worker:
        return _run_worker(cfg, args)
    from .privileges import resolve_identity
    from .workers import worker_count

    try:
        paths = runtime_paths(cfg, args.pidfile)
        prepare_spool(paths.spool)
        count = worker_count(cfg)
        resolve_identity(cfg)  # an unknown Security user/group fails before detaching
    except StartupError as exc:
        sys.stderr.write(f"ecelerity: {exc}\n")
        return exc.exit_code
    reporter = StartupReporter() if args.foreground else daemonize()
    try:
        if count > 1:
            from .supervisor import run_supervisor

            return run_supervisor(cfg, args.config, paths, reporter, count)
        return run(cfg, args.config, paths, reporter)
    except Exception as exc:  # noqa: BLE001 - never a bare traceback to the operator
        return reporter.fail(EXIT_STARTUP_FAILED, f"internal error: {type(exc).__name__}: {exc}")


def _run_worker(cfg: Any, args: argparse.Namespace) -> int:
    """``--worker I/N``: one worker of a supervisor (daemon/workers.py)."""
    from .workers import WorkerIdentity, parse_worker_arg, run_worker

    reporter = StartupReporter(args.report_fd)
    try:
        index, count = parse_worker_arg(args.worker)
        if not args.worker_dir:
            raise ValueError("--worker needs --worker-dir")
    except ValueError as exc:
        return reporter.fail(EXIT_BAD_CONFIG, f"bad worker arguments: {exc}")
    paths = runtime_paths(cfg, None)
    try:
        return run_worker(cfg, args.config, WorkerIdentity(index, count, args.worker_dir),
                          paths.paniclog, paths.paniclog_mode, reporter)
    except Exception as exc:  # noqa: BLE001 - never a bare traceback
        return reporter.fail(EXIT_STARTUP_FAILED, f"worker internal error: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
