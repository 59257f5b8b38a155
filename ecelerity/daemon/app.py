"""The App: the running daemon's one owner of the current Config, its services and logs.

daemon/main.py builds one App after the configuration loaded and the pidfile is ours,
then calls ``start()``, waits in ``wait_for_shutdown()`` and calls ``stop()``. Signal
handlers (daemon/signals.py) and console commands (control/commands_core.py) call
``reload()``, ``reopen_logs()`` and ``request_shutdown()``; all of them run in the
hub, in greenlets.

``app.config`` is the configuration in force. Reload builds a whole new Config and
swaps it in with one reference assignment, so a reader sees either the old or the new
configuration, never a mix; a reload that fails leaves the old one in force and writes
every error to the paniclog. The App never parses configuration itself (loader.py
does) and never touches sockets (services do).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import gevent
import gevent.event
import gevent.lock

from ecelerity.config.errors import ConfigError
from ecelerity.control.commands_all import attach_stats, register_console_commands
from ecelerity.control.registry import DEFAULT_REGISTRY, CommandRegistry
from ecelerity.control.server import ControlService
from ecelerity.log.paniclog import PanicLog

from ecelerity.core.spool_service import SpoolService
from ecelerity.http.service import HTTPService
from ecelerity.policy.phases import HookRegistry
from ecelerity.queue.service import QueueService
from ecelerity.smtp.server import SMTPService

from .heap import refreeze_after_reload
from .module_service import ModuleService
from .process_files import PanicLogging
from .service import Service, StartupError

# The services every daemon runs, started in this order and stopped in reverse:
# the spool first (spool-in), then queues, modules (policy hooks) and the SMTP
# listener; the control channel last, so a daemon that answers on its control
# socket has everything else running (tests and ec_console rely on that).
SERVICE_FACTORIES: list[Callable[[], Service]] = [
    SpoolService,
    QueueService,
    ModuleService,
    SMTPService,
    HTTPService,  # only when an HTTP_Listener is configured
    ControlService,
]

STOP_TIMEOUT = 10.0  # seconds services get to finish sessions at shutdown (no option yet)


@dataclass
class ReloadOutcome:
    ok: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _default_loader(path: str) -> Any:
    from ecelerity.config.loader import load_config

    return load_config(path)


class App(PanicLogging):
    """See the module docstring; ``log`` / ``log_exception`` come from PanicLogging."""

    def __init__(self, config: Any, *, config_path: str, paniclog: PanicLog,
                 services: list[Service] | None = None,
                 commands: CommandRegistry | None = None,
                 loader: Callable[[str], Any] = _default_loader,
                 stop_timeout: float = STOP_TIMEOUT):
        self.config = config
        self.config_path = config_path
        self.spool: Any = None  # set by SpoolService at start
        self.spool_in: Any = None  # SpoolInReport of start-up
        self.hooks = HookRegistry()  # validation-phase hooks (core, modules, Sieve++, Lua)
        self.paniclog = paniclog
        paniclog.config_getter = lambda: self.config  # Debug_Flags of the config in force
        self.commands = commands if commands is not None else DEFAULT_REGISTRY
        register_console_commands(self.commands)
        self.services: list[Service] = (
            [factory() for factory in SERVICE_FACTORIES] if services is None else list(services)
        )
        self.stop_timeout = stop_timeout
        self.started_at = time.time()
        self.reloads = 0
        self._loader = loader
        self._running: list[Service] = []
        self._shutdown = gevent.event.Event()
        self._shutdown_reason = ""
        self._reload_lock = gevent.lock.Semaphore()

    # -- life cycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start every service in order; on a StartupError stop those started and re-raise."""
        for service in self.services:
            try:
                service.start(self)
            except StartupError:
                self._stop_services(time.monotonic() + 1.0)
                raise
            except Exception as exc:  # noqa: BLE001 - becomes a clean start-up error
                self.log_exception("ecelerity", f"service {_name(service)} failed to start", exc)
                self._stop_services(time.monotonic() + 1.0)
                raise StartupError(f"service {_name(service)} failed to start: {exc}") from exc
            self._running.append(service)
        attach_stats(self)  # counters shown by summary/binding summary follow the queue

    def request_shutdown(self, reason: str = "") -> None:
        if not self._shutdown.is_set():
            self._shutdown_reason = reason
            self.log("ecelerity", f"shutdown requested{': ' + reason if reason else ''}")
            self._shutdown.set()

    @property
    def shutting_down(self) -> bool:
        return self._shutdown.is_set()

    def wait_for_shutdown(self, timeout: float | None = None) -> bool:
        return self._shutdown.wait(timeout)

    def stop(self) -> None:
        """Stop services (reverse order) within stop_timeout, then flush the paniclog."""
        self._stop_services(time.monotonic() + self.stop_timeout)
        if getattr(self, "loggers", None) is not None:
            self.loggers.close()  # lines of deliveries that finished while the queue stopped
        self.paniclog.flush()

    def _stop_services(self, deadline: float) -> None:
        while self._running:
            service = self._running.pop()
            try:
                service.stop(deadline)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                self.log_exception("ecelerity", f"service {_name(service)} failed to stop", exc)

    # -- reload and logs ---------------------------------------------------------------
    def reload(self, reason: str = "") -> ReloadOutcome:
        """Load the configuration file again; swap it in only if it is valid."""
        with self._reload_lock:
            suffix = f" ({reason})" if reason else ""
            try:
                new_cfg = self._loader(self.config_path)
            except ConfigError as exc:
                errors = [str(p) for p in exc.problems] or [str(exc)]
                for line in errors:
                    self.log("config", f"reload failed: {line}")
                return ReloadOutcome(False, errors)
            except Exception as exc:  # noqa: BLE001 - never let a reload kill the daemon
                self.log_exception("config", "reload failed", exc)
                return ReloadOutcome(False, [f"{type(exc).__name__}: {exc}"])
            warnings = [str(w) for w in getattr(new_cfg, "warnings", [])]
            for line in warnings:
                self.log("config", line)
            old_cfg = self.config
            self.config = new_cfg
            self.reloads += 1
            for service in list(self._running):
                try:
                    service.reload(old_cfg, new_cfg)
                except Exception as exc:  # noqa: BLE001 - the other services still reload
                    self.log_exception("config", f"service {_name(service)} failed to reload", exc)
            refreeze_after_reload()
            self.log("config", f"reload ok{suffix}")
            return ReloadOutcome(True, [], warnings)

    def reopen_logs(self) -> None:
        """Reopen every log file (paniclog, then app.loggers); for SIGUSR1 and the console."""
        self.paniclog.reopen()
        if getattr(self, "loggers", None) is not None:
            self.loggers.reopen()  # log/service.py LogHub: mainlog, bouncelog, JSON, custom
        self.log("ecelerity", "logs reopened")


def _name(service: Any) -> str:
    return getattr(service, "name", type(service).__name__)
