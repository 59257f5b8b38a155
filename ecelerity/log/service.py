"""The daemon's log fan-out (``app.loggers``): one event, built once, to every configured log.

Who calls it: the logging modules (modules/*_logger.py) add their logger objects
through ``attach_module_logger(ctx, factory)``; the SMTP side calls
``log_reception(session, batch)`` after a successful spool store,
``log_refusal(session, reply)`` for every 4xx/5xx reply and ``log_smtp_auth`` after
each AUTH verdict (smtp/auth.py); the console calls ``log_console_auth`` /
``log_console_authz`` (acctlog N/T and Z records); ``spool import`` calls
``spool_import`` per message (importlog); the QueueManager calls
``LogHub.observe`` as one of its ``observers`` for every delivery outcome, and the R
line (protocol ``internal``) of each DSN it generates comes from a wrapper around that
manager's ``admit`` (``attach_queue``); the App calls ``reopen()`` (SIGUSR1, ``reopen
logs``) and ``close()`` (shutdown).

Each event becomes one facts dict (log/facts.py) handed to every sink's ``record``; a
sink decides what it writes (ec_logger: mainlog/rejectlog, bounce_logger: the B/T
bouncelog line of a failure, the JSON log: everything). Delivery details the queue's
observers do not carry (remote IP, stage, bytes sent, outbound connection id, the
retry count before the attempt) come from a thin tap around the delivery engine's
``deliver`` (``EngineTap``), keyed by message id and consumed by ``observe``.

The functions the SMTP side and the console call (``log_reception``, ``log_refusal``,
``log_smtp_auth``, ``log_console_auth``, ``log_console_authz``) are in log/events.py
and re-exported here. Never raises into a caller and never blocks: a broken sink is reported to the paniclog
once per sink and skipped; writes are buffered by log/writer.py.
"""
from __future__ import annotations

import errno
import time
from typing import Any, Callable

from . import facts as event_facts
from .engine_tap import Attempt, EngineTap
# the callers' entry points (smtp/, control/) live in events.py; re-exported here
from .events import (log_console_auth, log_console_authz, log_reception, log_refusal,
                     log_smtp_auth)
from .module_settings import default_log_dir, hires_timestamps

__all__ = ["KIND_OF_OUTCOME", "PHASE_OF_STATE", "LogHub", "attach_module_logger", "hub_for",
           "writers_of", "log_console_auth", "log_console_authz",
           "log_reception", "log_refusal", "log_smtp_auth"]

KIND_OF_OUTCOME = {"delivered": "D", "transient": "T", "failed": "P"}
# session.state -> the phase text of a rejectlog line ("awaiting mailfrom" is Momentum's)
PHASE_OF_STATE = {"connected": "awaiting ehlo", "greeted": "awaiting mailfrom",
                  "mail": "awaiting rcptto", "rcpt": "awaiting data", "closed": "closing"}


class LogHub:
    """The fan-out: see the module docstring."""

    def __init__(self, *, config_getter: Callable[[], Any] | None = None,
                 report: Callable[[str, str], None] | None = None,
                 clock: Callable[[], float] = time.time):
        self.sinks: list[Any] = []
        self.config_getter = config_getter
        self.report = report
        self.clock = clock
        self._memo: dict[str, tuple[Any, int]] = {}
        self._manager: Any = None
        self._broken: set[int] = set()

    # -- sinks ---------------------------------------------------------------------------
    def add(self, sink: Any) -> None:
        if sink not in self.sinks:
            self.sinks.append(sink)

    def remove(self, sink: Any) -> None:
        if sink in self.sinks:
            self.sinks.remove(sink)

    def record(self, facts: dict[str, Any]) -> None:
        """Hand one event to every sink (a failing sink is reported once and skipped)."""
        for sink in list(self.sinks):
            try:
                sink.record(facts)
            except Exception as exc:  # noqa: BLE001 - one broken log must not stop the others
                if id(sink) not in self._broken:
                    self._broken.add(id(sink))
                    self._say(f"{type(sink).__name__} failed on a {facts.get('event')} event: "
                              f"{type(exc).__name__}: {exc}")

    def binding_group_of(self, binding: str) -> Any:
        cfg = self.config_getter() if self.config_getter is not None else None
        lookup = getattr(cfg, "binding_group_of", None)
        return lookup(binding) if lookup is not None else None

    # -- events --------------------------------------------------------------------------
    def reception(self, batch: Any, conn_id: str | None = None) -> None:
        """R: one record per recipient-message of a batch the spool made durable."""
        now = self.clock()
        for message in getattr(batch, "messages", ()):
            self.record(event_facts.reception_facts(message, conn_id, now=now,
                                                    binding_group_of=self.binding_group_of))

    def refusal(self, session: Any, reply: Any) -> None:
        """A rejectlog event: ``session`` answered a command with ``reply`` (4xx/5xx)."""
        conn = dict(getattr(session.vctx, "conn", {}) or {})
        settings = getattr(session, "settings", None)
        pathway = conn.get("pathway") or getattr(settings, "pathway", None) or "default"
        self.record(event_facts.rejection_facts(
            now=self.clock(), peer=f"{session.peer_ip}:{session.peer_port}",
            local=session.local_addr or "", conn_id=session.conn_id,
            phase=PHASE_OF_STATE.get(session.state, session.state), code=reply.code,
            module=getattr(session, "rejecting_module", None) or "smtp", ctx_conn=conn,
            ctx_mess=dict(getattr(session.vctx, "mess", {}) or {}), text=reply.text,
            enhanced=getattr(reply, "enhanced", None) or "",
            pathway=str(pathway), pathway_group=str(conn.get("pathway_group") or "default")))

    def account(self, kind: str, endpoint: str, peer: str, user: str, result: int,
                command: str | None = None, role: str | None = None) -> None:
        """An acctlog event: N / T (authentication, timeout), Z (authorization)."""
        self.record(event_facts.acct_facts(now=self.clock(), kind=kind, endpoint=endpoint,
                                           peer=peer, user=user, result=result,
                                           command=command, role=role))

    def spool_import(self, old_id: str, new_id: str | None, result: int, source: str) -> None:
        """An importlog event (control/spool_import.py): to every sink that keeps one
        (``record_import``: ec_logger with an ``importlog``)."""
        facts = event_facts.import_facts(now=self.clock(), old_id=old_id, new_id=new_id,
                                         result=result, source=source)
        for sink in list(self.sinks):
            record_import = getattr(sink, "record_import", None)
            if record_import is None:
                continue
            try:
                record_import(facts)
            except Exception as exc:  # noqa: BLE001 - one broken log must not stop the others
                if id(sink) not in self._broken:
                    self._broken.add(id(sink))
                    self._say(f"{type(sink).__name__} failed on an import event: "
                              f"{type(exc).__name__}: {exc}")

    def observe(self, outcome: str, message: Any, text: str, result: Any = None) -> None:
        """A QueueManager observer: D / T / P for a delivery outcome (P feeds the bouncelog)."""
        kind = KIND_OF_OUTCOME.get(outcome)
        tapped = self._memo.pop(getattr(message, "id", None), None)
        if kind is None:
            return
        retries = None
        if tapped is not None:
            result = result if result is not None else tapped[0]
            retries = tapped[1]
        facts = event_facts.attempt_facts(message, Attempt(result, text), kind, now=self.clock(),
                                          binding_group_of=self.binding_group_of)
        if retries is None:  # the queue already counted this failure into message.retries
            retries = max(0, message.retries - 1) if outcome == "transient" else message.retries
        facts["retries"] = retries
        self.record(facts)

    # -- the queue -----------------------------------------------------------------------
    def attach_queue(self, manager: Any) -> None:
        """Observe ``manager``'s outcomes and tap its engine (idempotent)."""
        if manager is None or manager is self._manager:
            return
        self.detach_queue()
        self._manager = manager
        manager.observers.append(self.observe)
        manager.admit = self._admit_wrapper(manager.admit)
        if manager.engine is not None and not isinstance(manager.engine, EngineTap):
            manager.engine = EngineTap(manager.engine, self._memo)

    def detach_queue(self) -> None:
        manager, self._manager = self._manager, None
        if manager is None:
            return
        if self.observe in manager.observers:
            manager.observers.remove(self.observe)
        if getattr(manager.__dict__.get("admit"), "log_hub", None) is self:
            del manager.admit  # the class's own method again
        if isinstance(manager.engine, EngineTap):
            manager.engine = manager.engine.engine

    def _admit_wrapper(self, admit: Callable[[Any], None]) -> Callable[[Any], None]:
        """``admit`` that first writes the R lines of generated mail (protocol internal:
        DSNs); mail received over SMTP already had its R lines from ``log_reception``."""
        def admit_and_log(batch: Any) -> None:
            try:
                messages = [message for message in getattr(batch, "messages", ())
                            if message.envelope.protocol == "internal"]
                if messages:
                    now = self.clock()
                    for message in messages:
                        self.record(event_facts.reception_facts(
                            message, now=now, binding_group_of=self.binding_group_of))
            except Exception as exc:  # noqa: BLE001 - logging never costs a message
                self._say(f"internal reception not logged: {type(exc).__name__}: {exc}")
            admit(batch)

        admit_and_log.log_hub = self  # type: ignore[attr-defined]
        return admit_and_log

    # -- life cycle ----------------------------------------------------------------------
    def _each(self, method: str) -> None:
        for sink in list(self.sinks):
            try:
                getattr(sink, method)()
            except Exception as exc:  # noqa: BLE001 - the other logs still reopen/close
                self._say(f"{type(sink).__name__}.{method} failed: {type(exc).__name__}: {exc}")

    def reopen(self) -> None:
        self._each("reopen")

    def flush(self) -> None:
        self._each("flush")

    def close(self) -> None:
        self._each("close")

    def _say(self, text: str) -> None:
        if self.report is not None:
            try:
                self.report("log", text)
            except Exception:  # noqa: BLE001
                pass


def hub_for(app: Any) -> LogHub:
    """``app.loggers``, created on first use and attached to ``app.queue_manager``; also
    points the paniclog's Debug_Flags at ``app.config`` when nobody did yet."""
    hub = getattr(app, "loggers", None)
    if hub is None:
        hub = LogHub(config_getter=lambda: app.config, report=getattr(app, "log", None))
        app.loggers = hub
    paniclog = getattr(app, "paniclog", None)
    if paniclog is not None and getattr(paniclog, "config_getter", False) is None:
        paniclog.config_getter = lambda: app.config  # Debug_Flags of the config in force
    hub.attach_queue(getattr(app, "queue_manager", None))
    return hub


def attach_module_logger(ctx: Any, factory: Callable[[dict[str, Any]], Any]) -> Any:
    """Build a module's logger (``factory(env)``), start it, add it to ``app.loggers``.

    ``env`` holds log_dir, hires, binding_group_of and report. At unload the logger is
    closed (its buffers written); on reload it leaves the fan-out, but at shutdown it
    stays in it, so results of deliveries that finish while the queue stops are still
    written (a closed LogWriter writes at once). Registers ``<label> reopen logs``."""
    app = ctx.app
    hub = hub_for(app)
    cfg = ctx.config
    env = {"log_dir": default_log_dir(cfg), "hires": hires_timestamps(cfg),
           "binding_group_of": hub.binding_group_of, "report": getattr(app, "log", None)}
    sink = factory(env)
    count_error = _error_counter(app)
    for writer in writers_of(sink):
        writer.on_error = count_error
    sink.start()
    hub.add(sink)

    def unload() -> None:
        sink.close()
        if not getattr(app, "shutting_down", False):
            hub.remove(sink)

    def reopen_command(_command_ctx: Any) -> str:
        sink.reopen()
        return "logs reopened"

    ctx.on_unload(unload)
    ctx.register_command(f"{ctx.label} reopen logs", reopen_command,
                         f"reopen the log files of {ctx.label} (after rotation)")
    return sink


def writers_of(sink: Any) -> list[Any]:
    """The LogWriters of a logger (``writers`` dict and/or ``writer``)."""
    found = list(getattr(sink, "writers", None).values()) \
        if isinstance(getattr(sink, "writers", None), dict) else []
    if getattr(sink, "writer", None) is not None:
        found.append(sink.writer)
    return found


def _error_counter(app: Any) -> Callable[[OSError], None]:
    """Counts a log write error in the daemon's Stats (ecelerity/stats.py): every one as
    ``log_write_errors``, a full disk or quota also as ``log_disk_full``."""
    def count(error: OSError) -> None:
        from ecelerity.stats import for_app

        stats = for_app(app)
        stats.record("log_write_errors")
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            stats.record("log_disk_full")
    return count
