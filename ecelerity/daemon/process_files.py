"""The files a daemon process holds for its lifetime (pidfile, paniclog) and the one way
its owner logs to the paniclog.

Who calls it: daemon/main.py ``run`` (a single-process daemon) and daemon/supervisor.py
``run_supervisor`` (the supervisor of N workers) open a ProcessFiles after detaching and
before starting anything, and close it last; App (daemon/app.py) and Supervisor
(daemon/supervisor.py) inherit PanicLogging for their ``log`` / ``log_exception``, which
services, modules and console commands call. Never starts services, never touches the
spool or sockets, never prints: a traceback goes to the paniclog only, and what the
operator reads is the one line ``startup_failed`` returns.
"""
from __future__ import annotations

import traceback
from typing import Any

from ecelerity.log.paniclog import PanicLog

from .pidfile import PidFile
from .service import StartupError


class PanicLogging:
    """``log`` and ``log_exception`` over ``self.paniclog`` (set by the class using it)."""

    paniclog: PanicLog

    def log(self, module: str, text: str) -> None:
        self.paniclog.write(module, text)

    def log_exception(self, module: str, what: str, exc: BaseException) -> None:
        """One line saying what failed, then the traceback, a paniclog line each."""
        self.log(module, f"{what}: {type(exc).__name__}: {exc}")
        for line in traceback.format_exception(type(exc), exc, exc.__traceback__):
            self.log(module, line.rstrip("\n"))


class ProcessFiles:
    """The pidfile and the paniclog of one daemon process (``paths``: main.RuntimePaths)."""

    def __init__(self, paths: Any) -> None:
        self.pidfile = PidFile(paths.pidfile)
        self.paniclog = PanicLog(paths.paniclog, mode=paths.paniclog_mode)

    def open(self, banner: str, cfg: Any) -> PanicLog:
        """Take the pidfile (PidFileError when another daemon holds it; nothing is
        opened then), open the paniclog, log ``banner`` and the configuration's warnings."""
        self.pidfile.acquire()
        self.paniclog.open()
        self.paniclog.write("ecelerity", banner)
        for warning in getattr(cfg, "warnings", []):
            self.paniclog.write("config", str(warning))
        return self.paniclog

    def startup_failed(self, exc: BaseException) -> str:
        """Log why start-up failed (a StartupError's reason; the whole traceback of
        anything else), close both files, and return the operator's one line."""
        if isinstance(exc, StartupError):
            self.paniclog.write("ecelerity", f"start-up failed: {exc}")
            line = str(exc)
        else:
            self.paniclog.write("ecelerity", "".join(traceback.format_exception(exc)))
            line = f"internal error during start-up: {exc} (traceback in {self.paniclog.path})"
        self.close()
        return line

    def stopped(self) -> None:
        """The process stops after serving: say so, then close both files."""
        self.paniclog.write("ecelerity", "stopped")
        self.close()

    def close(self) -> None:
        self.paniclog.close()
        self.pidfile.release()
