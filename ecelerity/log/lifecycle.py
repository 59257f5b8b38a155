"""The LogHub sink life cycle that every file logger shares: start/flush/reopen/close.

ec_logger.py, bounce_logger.py, jsonlog.py, custom_logger.py and compat_base.py
subclass ``WriterLifecycle``: it runs ``start`` / ``flush`` / ``reopen`` / ``close`` over
the logger's LogWriters (``self.writers`` values, or the single ``self.writer``) and
owns the optional heartbeat greenlet. ``StanzaLogger`` adds the constructor and the
``from_config`` plumbing that ec_logger and bounce_logger share (settings over the
registry defaults, log dir, hires timestamps, binding groups). Never writes a line
itself and never raises into the caller beyond what a LogWriter does.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping

import gevent

from .module_settings import default_log_dir, hires_timestamps, instances, with_defaults
from .writer import FLUSH_INTERVAL, LogWriter


class WriterLifecycle:
    """start/flush/reopen/close over this logger's writers, plus its heartbeat greenlet."""

    _heartbeat: gevent.Greenlet | None = None

    def log_writers(self) -> Iterable[LogWriter]:
        """The writers this logger owns: ``self.writers`` values, else ``self.writer``."""
        writers = getattr(self, "writers", None)
        return list(writers.values()) if writers is not None else [self.writer]

    def heartbeat_seconds(self) -> float:
        """Seconds between heartbeat lines; 0 (the default) means no heartbeat."""
        return 0.0

    def heartbeat(self, when: float | None = None) -> None:
        """Write this logger's heartbeat line(s); loggers with a heartbeat override it."""

    def start(self) -> None:
        """Start the flushers and, when ``heartbeat_seconds()`` > 0, the heartbeat greenlet."""
        for writer in self.log_writers():
            writer.start()
        interval = self.heartbeat_seconds()
        if interval > 0 and self._heartbeat is None:
            self._heartbeat = gevent.spawn(self._heartbeat_loop, interval)

    def _heartbeat_loop(self, interval: float) -> None:
        while True:
            gevent.sleep(interval)
            self.heartbeat()

    def flush(self) -> None:
        for writer in self.log_writers():
            writer.flush()

    def reopen(self) -> None:
        """After rotation: each file gets what was buffered, then is opened afresh."""
        for writer in self.log_writers():
            writer.reopen()

    def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.kill(block=False)
            self._heartbeat = None
        for writer in self.log_writers():
            writer.close()


class StanzaLogger(WriterLifecycle):
    """A logger built from the first stanza of module ``MODULE``; subclasses open writers."""

    MODULE = ""

    def __init__(self, settings: Mapping[str, Any] | None = None, *, log_dir: str = "var/log",
                 hires: bool = False, binding_group_of: Callable[[str], Any] | None = None,
                 report: Callable[[str, str], None] | None = None,
                 clock: Callable[[], float] = time.time,
                 flush_interval: float = FLUSH_INTERVAL, use_threadpool: bool = True):
        self.settings = with_defaults(self.MODULE, settings)
        self.hires = hires
        self.clock = clock
        self.binding_group_of = binding_group_of
        self._heartbeat = None
        self.open_writers(log_dir, dict(report=report, flush_interval=flush_interval,
                                        use_threadpool=use_threadpool))

    def open_writers(self, log_dir: str, writer_args: dict[str, Any]) -> None:
        """Create this logger's LogWriters (paths from ``self.settings`` or ``log_dir``)."""
        raise NotImplementedError

    @classmethod
    def first_from_config(cls, cfg: Any, *, report: Callable[[str, str], None] | None = None,
                          **kwargs: Any) -> Any:
        """The first enabled ``MODULE`` stanza of ``cfg`` as a logger, or None without one."""
        found = instances(cfg, cls.MODULE)
        if not found or found[0].settings.get("enabled") is False:
            return None
        return cls(found[0].settings, log_dir=default_log_dir(cfg), hires=hires_timestamps(cfg),
                   binding_group_of=getattr(cfg, "binding_group_of", None), report=report,
                   **kwargs)

    def heartbeat_seconds(self) -> float:
        return float(self.settings.get("heartbeat") or 0)

    def _now(self, when: float | None) -> float:
        return self.clock() if when is None else when
