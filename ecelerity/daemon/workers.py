"""One worker process of a multi-process daemon: the App as today, behind a ConfigView.

Who calls it: daemon/main.py when started with ``--worker I/N`` (only the supervisor,
daemon/supervisor.py, starts workers that way). The worker runs the same App and
services as a single-process daemon, with every Config wrapped in a
daemon/shares.ConfigView (its spool partition, its private control socket, its share
of the limits) and a daemon/leases.LeaseBook for limits smaller than N. It has no
pidfile (the supervisor's pidfile names the daemon) and shares the paniclog file.

Start-up status goes to the supervisor through the inherited pipe named by
``--report-fd`` (detach.StartupReporter: "0 ready" or "<code> <reason>"). The worker asks
the kernel for SIGTERM when the supervisor dies (PR_SET_PDEATHSIG), so no worker
outlives its supervisor. Started as root, a worker drops to the Security user once its
App started (its listeners, private control socket and spool partition are open; see
daemon/privileges.py); the supervisor keeps root to restart workers on privileged
ports. Never forks, never signals other processes.
"""
from __future__ import annotations

import ctypes
import os
import signal
import traceback
from dataclasses import dataclass
from typing import Any

import ecelerity
from ecelerity.log.paniclog import PanicLog

from .heap import freeze_startup_heap
from .service import StartupError
from .shares import ConfigView

PR_SET_PDEATHSIG = 1
MAX_UNIX_PATH = 100


@dataclass(frozen=True)
class WorkerIdentity:
    index: int
    count: int
    run_dir: str  # private sockets and leases of this daemon's workers

    @property
    def control_path(self) -> str:
        return os.path.join(self.run_dir, f"w{self.index}.sock")

    @property
    def lease_dir(self) -> str:
        return os.path.join(self.run_dir, "leases")


def parse_worker_arg(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N); ValueError when malformed or I is not below N."""
    index_text, _, count_text = text.partition("/")
    index, count = int(index_text), int(count_text)
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} not in 0..{count - 1}")
    return index, count


def worker_count(cfg: Any) -> int:
    """``worker_processes`` as a number (``auto``: the CPUs this process may use)."""
    value = cfg.get("worker_processes")
    if value == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):
            return max(1, os.cpu_count() or 1)
    return max(1, int(value))


def die_with_parent() -> None:
    """SIGTERM this process when its parent (the supervisor) exits (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def wrap(cfg: Any, ident: WorkerIdentity, leases: Any) -> ConfigView:
    return ConfigView(cfg, index=ident.index, count=ident.count,
                      control_path=ident.control_path, leases=leases)


def run_worker(cfg: Any, config_path: str, ident: WorkerIdentity, paniclog_path: str,
               paniclog_mode: int, reporter: Any) -> int:
    """Everything a worker does after main.py parsed its arguments; returns the exit code."""
    from .app import App
    from .leases import LeaseBook
    from .detach import EXIT_OK, EXIT_STARTUP_FAILED
    from .privileges import become, resolve_identity
    from .signals import install_signal_handlers, remove_signal_handlers

    die_with_parent()
    try:
        identity, identity_note = resolve_identity(cfg)
    except StartupError as exc:
        return reporter.fail(exc.exit_code, str(exc))
    paniclog = PanicLog(paniclog_path, mode=paniclog_mode)
    paniclog.open()
    who = f"worker {ident.index}/{ident.count}"
    paniclog.write("ecelerity", f"{who} starting (pid {os.getpid()})")
    spoolbase = str(cfg.get("spoolbase"))  # all partitions: the workers share one identity
    holder: list[Any] = []
    leases = LeaseBook(ident.lease_dir,
                       manager=lambda: getattr(holder[0], "queue_manager", None) if holder else None,
                       config=lambda: holder[0].config if holder else cfg)

    def loader(path: str) -> Any:
        from ecelerity.config.loader import load_config

        return wrap(load_config(path), ident, leases)

    if identity_note:
        paniclog.write("ecelerity", f"{who}: {identity_note}")
    started: list[Any] = []
    try:
        app = App(wrap(cfg, ident, leases), config_path=config_path, paniclog=paniclog, loader=loader)
        holder.append(app)
        app.worker = ident
        app.start()
        started.append(app)
        leases.start()
        # every socket of this worker is bound, nothing served yet (daemon/privileges.py)
        dropped = become(identity, app, app.config, extra_paths=[paniclog_path, spoolbase],
                         trees=[ident.run_dir, spoolbase])
        if dropped:
            paniclog.write("ecelerity", f"{who}: {dropped}")
        handles = install_signal_handlers(app)
    except StartupError as exc:
        _stop_started(started, leases)
        paniclog.write("ecelerity", f"{who} start-up failed: {exc}")
        paniclog.close()
        return reporter.fail(exc.exit_code, str(exc))
    except Exception as exc:  # noqa: BLE001 - one line for the supervisor, details in the paniclog
        paniclog.write("ecelerity", "".join(traceback.format_exception(exc)))
        _stop_started(started, leases)
        paniclog.close()
        return reporter.fail(EXIT_STARTUP_FAILED, f"{who}: internal error during start-up: {exc}")
    paniclog.start_flusher()
    freeze_startup_heap()
    paniclog.write("ecelerity", f"{who} started")
    reporter.ready(f"{who} version {ecelerity.__version__} running (pid {os.getpid()})")
    try:
        app.wait_for_shutdown()
        app.stop()
    finally:
        leases.close()
        remove_signal_handlers(handles)
        paniclog.write("ecelerity", f"{who} stopped")
        paniclog.close()
    return EXIT_OK


def _stop_started(started: list[Any], leases: Any) -> None:
    """Stop an App whose start() returned but whose start-up failed afterwards
    (App.start() itself stops the services of a start that fails)."""
    for app in started:
        app.stop()
        leases.close()
