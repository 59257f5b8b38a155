"""The paniclog: the daemon's own error and event log, one line per event.

Line shape, as in Momentum (momentum-facts.md §2.4): ``<epoch seconds>:<module>: <text>``,
e.g. ``1251200446:config: reload failed: ecelerity.conf:3:1: ...``. A multi-line text
becomes one line per text line, each with the same prefix, so a log reader never sees
a line without a timestamp.

Who calls it: the daemon (start, stop, reload, signals), the control channel, and any
subsystem with something an operator must see. Each event has a level (default
``error``) and belongs to one of Momentum's error classes (SMTP, DNS, LOG1, START...:
log/debug_flags.py maps the module name, or the caller names it); the ``Debug_Flags``
stanza of the configuration in force (``config_getter``) decides which are written:
by default every error and critical event, nothing below. ``log_errors = false`` in the
``ec_logger`` stanza that names the paniclog (else the first one) turns the error
events off (Momentum's ec_logger event switch): what Debug_Flags lets through below
CRITICAL is dropped, except the daemon's own start/stop/reload lines (START class);
critical events (Sieve ``ec_log``, Lua ``print``) and ``write_raw`` lines still go. ``write`` only appends to a buffer; the
buffer goes to disk when ``flush`` runs: on a short timer (``start_flusher``, a gevent
greenlet), when the buffer grows large, and at ``close``. ``reopen`` closes and reopens
the file (log rotation: the operator renames the file, then sends SIGUSR1).

It must never raise into a caller: a write or open error is reported on stderr once
(until a later write succeeds) and the line is dropped from the file, though it stays in
the in-memory tail that the ``paniclog`` console command shows.
"""
from __future__ import annotations

import collections
import os
import sys
import time
from typing import Any, Callable, TextIO

from .debug_flags import DebugFlags, level_name, subsystem_of

DEFAULT_MODE = 0o644
FLUSH_INTERVAL = 0.2  # seconds between timed flushes
FLUSH_AT_LINES = 256  # flush at once when this many lines are waiting
TAIL_LINES = 1000  # lines kept in memory for the ``paniclog`` console command


def log_errors_enabled(cfg: Any) -> bool:
    """``log_errors`` of the ec_logger stanza that names the paniclog (else the first
    ec_logger stanza); True without one or when it cannot be read."""
    try:
        stanzas = [m for m in cfg.modules() if m.module.lower() == "ec_logger"]
    except Exception:  # noqa: BLE001 - no configuration: the default
        return True
    owner = next((m for m in stanzas if m.settings.get("paniclog")), stanzas[0] if stanzas else None)
    if owner is None:
        return True
    settings = {str(key).lower(): value for key, value in owner.settings.items()}
    value = settings.get("log_errors", True)
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "no", "off", "0")
    return value is not False


def format_line(module: str, text: str, when: float | None = None) -> list[str]:
    """Return the paniclog lines (without newline) for one event."""
    stamp = int(time.time() if when is None else when)
    module = " ".join(str(module).split()) or "ecelerity"
    parts = str(text).splitlines() or [""]
    return [f"{stamp}:{module}: {part.rstrip()}" for part in parts]


class PanicLog:
    """A buffered paniclog file; see the module docstring for the flushing rules."""

    def __init__(self, path: str, *, mode: int = DEFAULT_MODE, stderr: TextIO | None = None,
                 clock: Callable[[], float] = time.time,
                 config_getter: Callable[[], Any] | None = None):
        self.path = path
        self.config_getter = config_getter  # the daemon's current Config (Debug_Flags)
        self._flags: tuple[Any, DebugFlags, bool] = (None, DebugFlags(), True)
        self.mode = mode
        self._stderr = stderr
        self._clock = clock
        self._file: TextIO | None = None
        self._pending: list[str] = []
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._complained = False
        self._flusher = None  # gevent greenlet, when start_flusher() ran
        self._closed = False

    # -- writing ---------------------------------------------------------------------
    def _settings(self) -> tuple[Any, DebugFlags, bool]:
        """(config, its Debug_Flags, its log_errors switch), recomputed when it changes."""
        cfg = self.config_getter() if self.config_getter is not None else None
        if cfg is not self._flags[0]:
            flags = DebugFlags.from_config(cfg) if cfg is not None else DebugFlags()
            self._flags = (cfg, flags, log_errors_enabled(cfg))
        return self._flags

    def flags(self) -> DebugFlags:
        """The Debug_Flags of the configuration in force (recomputed when it changes)."""
        return self._settings()[1]

    def wanted(self, module: str, level: str = "error", subsystem: str | None = None) -> bool:
        """Whether Debug_Flags (and ``log_errors``) let an event of ``module`` at
        ``level`` through."""
        try:
            _, flags, errors_on = self._settings()
            subsystem = subsystem or subsystem_of(module)
            if not errors_on and subsystem != "START" and level_name(level) != "CRITICAL":
                return False
            return flags.allows(level, subsystem)
        except Exception:  # noqa: BLE001 - when in doubt, write it
            return True

    def write(self, module: str, text: str, *, level: str = "error",
              subsystem: str | None = None) -> None:
        """Queue one event (never raises, never blocks on disk); ``level`` is one of
        debug info notice warning error critical, ``subsystem`` a Debug_Flags class
        (default: the class of ``module``). Events Debug_Flags filters out are dropped."""
        if not self.wanted(module, level, subsystem):
            return
        try:
            lines = format_line(module, text, self._clock())
        except Exception as exc:  # noqa: BLE001 - a bad argument must not crash the caller
            lines = format_line("paniclog", f"unprintable event from {module!r}: {exc!r}")
        self._tail.extend(lines)
        self._pending.extend(lines)
        if len(self._pending) >= FLUSH_AT_LINES or self._closed:
            self.flush()

    def write_raw(self, text: str) -> None:
        """Queue ``<ts>:<text>`` as it is (no module field), whatever Debug_Flags says:
        the HTTP listener's request lines (``<ts>:<ip> "POST ..." 200 224 5.000``)."""
        line = f"{int(self._clock())}:{' '.join(str(text).split())}"
        self._tail.append(line)
        self._pending.append(line)
        if len(self._pending) >= FLUSH_AT_LINES or self._closed:
            self.flush()

    def tail(self, count: int = 20) -> list[str]:
        """The last ``count`` lines written (from memory; survives rotation)."""
        if count <= 0:
            return []
        return list(self._tail)[-count:]

    # -- disk ------------------------------------------------------------------------
    def open(self) -> None:
        """Open (creating the directory and file if needed); an error goes to stderr once."""
        if self._file is not None:
            return
        try:
            parent = os.path.dirname(self.path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, self.mode)
            self._file = os.fdopen(fd, "a", encoding="utf-8", errors="replace")
        except OSError as exc:
            self._complain(f"cannot open paniclog '{self.path}': {exc.strerror or exc}")

    def flush(self) -> None:
        """Write every pending line to the file now."""
        if not self._pending:
            return
        if self._file is None:
            self.open()
            if self._file is None:
                self._pending.clear()
                return
        data = "".join(line + "\n" for line in self._pending)
        self._pending.clear()
        try:
            self._file.write(data)
            self._file.flush()
            self._complained = False
        except (OSError, ValueError) as exc:
            self._complain(f"cannot write paniclog '{self.path}': {getattr(exc, 'strerror', None) or exc}")

    def reopen(self) -> None:
        """Flush, close and open the path again (after the operator rotated the file)."""
        self.flush()
        self._close_file()
        self.open()

    def close(self) -> None:
        """Flush and close; later writes open the file again and flush at once."""
        self.stop_flusher()
        self.flush()
        self._close_file()
        self._closed = True

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                self._complain(f"cannot close paniclog '{self.path}': {exc.strerror or exc}")
            self._file = None

    def _complain(self, message: str) -> None:
        if self._complained:
            return
        self._complained = True
        stream = self._stderr if self._stderr is not None else sys.stderr
        try:
            stream.write(f"ecelerity: {message}\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    # -- timer -----------------------------------------------------------------------
    def start_flusher(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every ``interval`` seconds from a gevent greenlet until ``close``."""
        import gevent

        if self._flusher is not None:
            return
        self._closed = False

        def loop() -> None:
            while True:
                gevent.sleep(interval)
                self.flush()

        self._flusher = gevent.spawn(loop)

    def stop_flusher(self) -> None:
        if self._flusher is not None:
            self._flusher.kill(block=False)
            self._flusher = None
