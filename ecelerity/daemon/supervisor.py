"""The supervisor: growth past one core with N symmetric worker processes.

Who calls it: daemon/main.py, when ``worker_processes`` is more than 1 (``auto``: one
per CPU), after the configuration loaded, the process detached and before anything
else. With ``worker_processes = 1`` (the default) none of this runs: one process does
everything, exactly as before.

Design:

- Processes. The supervisor holds the pidfile (it names the supervisor) and writes the
  paniclog (both opened and closed by daemon/process_files.py), and starts N workers (daemon/supervisor_workers.py: fork+exec, start-up
  report, restart with backoff, crash-loop report). Each worker runs the whole App
  (daemon/workers.py); the daemon is ready when every worker is, and fails start-up
  (exit 1, the worker's reason) when one cannot start. Workers die with the
  supervisor (PR_SET_PDEATHSIG).
- Signals. SIGTERM/SIGINT: stop the control channel, SIGTERM every worker, wait for
  them (SIGKILL after the stop timeout), remove the pidfile, exit 0. SIGHUP: reload the
  supervisor's configuration (control listeners) and forward SIGHUP to every worker,
  which reloads its own. SIGUSR1: reopen the paniclog and forward.
- Inbound. Every worker listens on the same TCP addresses with SO_REUSEPORT; the kernel
  spreads connections over them. A unix-socket ESMTP Listen is served by worker 0 only.
  A Listen on port 0 is not supported with workers (each would get its own port).
- Spool. Worker I owns the partition ``<spoolbase>/w<I>``; a restarted worker reads its
  partition back and delivers what it holds. When N shrinks, partitions of workers that
  no longer exist (and a spool written by a single-process daemon) are adopted at start
  by the worker ``k % N`` (core/spool_service.py).
- Limits machine-wide (daemon/shares.py). Each worker reads the configuration through a
  ConfigView: a limit V (max_outbound_connections, server_max_outbound_connections,
  outbound_throttle_*, inbound_throttle_messages, listener/service/peer_sessions) is
  dealt in whole units round-robin from a hash of its scope, so the shares add up to V
  exactly. Connection limits and outbound throttles smaller than N are held whole by one
  worker at a time through flock leases (daemon/leases.py). The cost of static shares:
  a worker may wait for its share while another has spare units (a domain limited to
  3 connections gets 2 + 1). Inbound limits smaller than N cannot be split; a warning
  says so at start.
- Control. The supervisor listens on the configured Control_Listener sockets (with
  their authentication and authorization); each worker on its private socket
  ``<run dir>/w<I>.sock`` (``<pidfile dir>/workers``, or a directory under /tmp when
  that path is too long for a unix socket). Commands are forwarded to every worker and
  the answers merged (control/aggregate.py); ``pid``, ``shutdown``, ``workers`` and
  ``worker I <command>`` are the supervisor's own, ``config reload`` reloads all.

Never touches the spool or SMTP itself; never blocks its hub.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from typing import Any

import gevent
import gevent.event

import ecelerity
from ecelerity.config.errors import ConfigError
from ecelerity.log.paniclog import PanicLog

from .pidfile import PidFileError
from .process_files import PanicLogging, ProcessFiles
from .service import StartupError
from .supervisor_workers import (BACKOFF_FIRST, BACKOFF_MAX, CRASH_LOOP_RESTARTS,
                                 CRASH_LOOP_WINDOW, MAX_UNIX_PATH, STABLE_AFTER, START_TIMEOUT,
                                 STOP_TIMEOUT, WorkerProcesses, WorkerSlot, choose_run_dir)

__all__ = ["Supervisor", "run_supervisor", "hand_paniclog_to_workers", "WorkerSlot",
           "choose_run_dir", "START_TIMEOUT", "STOP_TIMEOUT", "BACKOFF_FIRST", "BACKOFF_MAX",
           "STABLE_AFTER", "CRASH_LOOP_RESTARTS", "CRASH_LOOP_WINDOW", "MAX_UNIX_PATH"]


class Supervisor(PanicLogging, WorkerProcesses):
    """See the module docstring."""

    def __init__(self, cfg: Any, *, config_path: str, count: int, pidfile: str,
                 paniclog: PanicLog) -> None:
        from ecelerity.control.aggregate import Aggregator

        self.config = cfg
        self.config_path = config_path
        self.count = count
        self.paniclog = paniclog
        self.run_dir, self._temp_run_dir = choose_run_dir(pidfile)
        self.slots = [WorkerSlot(i) for i in range(count)]
        self.commands = Aggregator(self)
        self.started_at = time.time()
        self.reloads = 0
        self._stopping = False
        self._shutdown = gevent.event.Event()
        self._control: Any = None
        self._watchers: list[gevent.Greenlet] = []

    # -- what the control service and the aggregator use (log, log_exception: PanicLogging)
    def worker_socket(self, index: int) -> str:
        return os.path.join(self.run_dir, f"w{index}.sock")

    def request_shutdown(self, reason: str = "") -> None:
        if not self._shutdown.is_set():
            self.log("ecelerity", f"shutdown requested{': ' + reason if reason else ''}")
            self._shutdown.set()

    def reload(self, reason: str = "") -> tuple[bool, list[str]]:
        """Reload the supervisor's own configuration (its control listeners)."""
        from ecelerity.config.loader import load_config

        try:
            new_cfg = load_config(self.config_path)
        except ConfigError as exc:
            errors = [str(p) for p in exc.problems] or [str(exc)]
            for line in errors:
                self.log("config", f"reload failed: {line}")
            return False, errors
        except Exception as exc:  # noqa: BLE001 - a reload never kills the supervisor
            self.log_exception("config", "reload failed", exc)
            return False, [f"{type(exc).__name__}: {exc}"]
        from .workers import worker_count

        if worker_count(new_cfg) != self.count:
            self.log("config", f"worker_processes changed to {worker_count(new_cfg)}; "
                               f"it takes effect at restart ({self.count} workers run)")
        old_cfg, self.config = self.config, new_cfg
        self.reloads += 1
        if self._control is not None:
            self._control.reload(old_cfg, new_cfg)
        self.log("config", f"supervisor reload ok{' (' + reason + ')' if reason else ''}")
        return True, []

    def reopen_logs(self) -> None:
        self.paniclog.reopen()
        hand_paniclog_to_workers(self.config, self.paniclog.path)

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start every worker, then the control channel; StartupError when one fails."""
        from ecelerity.control.server import ControlService

        from .shares import small_inbound_limits

        for text in small_inbound_limits(self.config, self.count):
            self.log("config", f"{text} is below worker_processes = {self.count}: each worker "
                               f"allows at least 1, so the machine-wide limit may be exceeded")
        results = gevent.joinall([gevent.spawn(self.spawn, slot) for slot in self.slots])
        failures = [g.value for g in results if g.value is None or g.value[0] != 0]
        if failures:
            self.stop_workers()
            code, message = failures[0] if failures[0] is not None else (1, "worker failed")
            raise StartupError(message, exit_code=code or 1)
        self._watchers = [gevent.spawn(self._watch, slot) for slot in self.slots]
        control = ControlService()
        try:
            control.start(self)
        except StartupError:
            self.stop_workers()
            raise
        self._control = control

    def run(self) -> None:
        """Serve until a shutdown is requested, then stop everything."""
        self._shutdown.wait()
        if self._control is not None:
            self._control.stop(time.monotonic() + 2.0)
            self._control = None
        self.stop_workers()
        gevent.killall(self._watchers, timeout=1.0)
        if self._temp_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def install_signals(self) -> list[Any]:
        def on_terminate(signum: int) -> None:
            self.request_shutdown(signal.Signals(signum).name)

        def on_hangup() -> None:
            self.log("ecelerity", "SIGHUP received: reloading configuration in every process")
            self.reload("SIGHUP")
            self.signal_workers(signal.SIGHUP)

        def on_usr1() -> None:
            self.reopen_logs()
            self.signal_workers(signal.SIGUSR1)

        return [gevent.signal_handler(signal.SIGTERM, on_terminate, signal.SIGTERM),
                gevent.signal_handler(signal.SIGINT, on_terminate, signal.SIGINT),
                gevent.signal_handler(signal.SIGHUP, on_hangup),
                gevent.signal_handler(signal.SIGUSR1, on_usr1)]


def hand_paniclog_to_workers(cfg: Any, path: str) -> None:
    """The supervisor keeps root, its workers drop to the Security user: a paniclog the
    supervisor (re)creates must stay writable by them (after a rotation too)."""
    from .privileges import resolve_identity

    identity, _ = resolve_identity(cfg)
    if identity is not None and os.geteuid() == 0:
        try:
            os.chown(path, identity.uid, identity.gid)
        except OSError:
            pass  # the workers report a paniclog they cannot open


def run_supervisor(cfg: Any, config_path: str, paths: Any, reporter: Any, count: int) -> int:
    """main.py's ``run`` for a multi-process daemon; returns the exit status."""
    from .detach import EXIT_OK, EXIT_STARTUP_FAILED

    files = ProcessFiles(paths)
    try:
        paniclog = files.open(f"starting ecelerity {ecelerity.__version__} supervisor (pid "
                              f"{os.getpid()}, {count} workers, config {config_path})", cfg)
    except PidFileError as exc:
        return reporter.fail(EXIT_STARTUP_FAILED, str(exc))
    hand_paniclog_to_workers(cfg, paths.paniclog)
    supervisor = Supervisor(cfg, config_path=config_path, count=count, pidfile=paths.pidfile,
                            paniclog=paniclog)
    handles: list[Any] = []
    try:
        handles = supervisor.install_signals()
        supervisor.start()
    except StartupError as exc:
        for handle in handles:
            handle.cancel()
        return reporter.fail(exc.exit_code, files.startup_failed(exc))
    except Exception as exc:  # noqa: BLE001 - one line for the operator, details in the paniclog
        supervisor.stop_workers(2.0)
        return reporter.fail(EXIT_STARTUP_FAILED, files.startup_failed(exc))
    paniclog.start_flusher()
    paniclog.write("ecelerity", f"started {count} workers: "
                               + ", ".join(f"w{s.index}={s.pid}" for s in supervisor.slots))
    reporter.ready(f"version {ecelerity.__version__} running (supervisor pid {os.getpid()}, "
                   f"{count} workers); paniclog {paths.paniclog}")
    try:
        supervisor.run()
    finally:
        for handle in handles:
            handle.cancel()
        files.stopped()
    return EXIT_OK
