"""The daemon's log fan-out (``app.loggers``): one event, built once, to every configured log.

Who calls it: the logging modules (modules/ec_logger.py, bounce_logger.py,
custom_logger.py, json_logger.py, postfix_logger.py, exim_logger.py) add their logger
objects through ``attach_module_logger(ctx, factory)``; the SMTP side calls
``log_reception(session, batch)`` after a successful spool store and
``log_refusal(session, reply)`` for every 4xx/5xx reply; the QueueManager calls
``LogHub.observe`` as one of its ``observers`` for every delivery outcome; the App calls
``reopen()`` (SIGUSR1, ``reopen logs``) and ``close()`` (shutdown).

Each event becomes one facts dict (log/facts.py) handed to every sink's ``record``; a
sink decides what it writes (ec_logger: mainlog/rejectlog, bounce_logger: the B/T
bouncelog line of a failure, the JSON log: everything). Delivery details the queue's
observers do not carry (remote IP, stage, bytes sent, outbound connection id, the
retry count before the attempt) come from a thin tap around the delivery engine's
``deliver`` (``_EngineTap``), keyed by message id and consumed by ``observe``.

Never raises into a caller and never blocks: a broken sink is reported to the paniclog
once per sink and skipped; writes are buffered by log/writer.py.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from . import facts as event_facts
from .module_settings import default_log_dir, hires_timestamps

KIND_OF_OUTCOME = {"delivered": "D", "transient": "T", "failed": "P"}
# session.state -> the phase text of a rejectlog line ("awaiting mailfrom" is Momentum's)
PHASE_OF_STATE = {"connected": "awaiting ehlo", "greeted": "awaiting mailfrom",
                  "mail": "awaiting rcptto", "rcpt": "awaiting data", "closed": "closing"}
MAX_TAPPED = 100_000  # attempts remembered without an outcome before the memo is reset


class _Attempt:
    """One attempt's result as the logs see it: the engine's details, the queue's reason."""

    def __init__(self, result: Any, text: str):
        code, enhanced, rest = _split_response(text)
        self.code = code if code is not None else getattr(result, "code", None)
        self.enhanced = enhanced if code is not None else getattr(result, "enhanced", "")
        self.text = rest if code is not None else getattr(result, "text", text)
        for name in ("stage", "remote_ip", "bytes_sent", "conn_id", "outcome", "classification"):
            setattr(self, name, getattr(result, name, None))


def _split_response(text: str) -> tuple[int | None, str, str]:
    """``"550 5.1.1 no such user"`` -> (550, "5.1.1", "no such user"); no code -> (None, "", text)."""
    words = (text or "").split(" ", 2)
    if not words or not words[0].isdigit():
        return None, "", text or ""
    code = int(words[0])
    if len(words) > 1 and words[1][:1].isdigit() and words[1].count(".") == 2:
        return code, words[1], words[2] if len(words) > 2 else ""
    return code, "", " ".join(words[1:])


class _EngineTap:
    """Wraps a DeliveryEngine: remembers each result and the retry count before it."""

    def __init__(self, engine: Any, memo: dict[str, tuple[Any, int]]):
        self.engine = engine
        self._memo = memo

    def deliver(self, binding: str, domain: str, messages: list[Any]) -> list[Any]:
        before = {message.id: message.retries for message in messages}
        results = self.engine.deliver(binding, domain, messages) or []
        if len(self._memo) > MAX_TAPPED:
            self._memo.clear()
        for result in results:
            message_id = getattr(result, "message_id", None)
            if message_id in before:
                self._memo[message_id] = (result, before[message_id])
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


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
            pathway=str(pathway), pathway_group=str(conn.get("pathway_group") or "default")))

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
        facts = event_facts.attempt_facts(message, _Attempt(result, text), kind, now=self.clock(),
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
        if manager.engine is not None and not isinstance(manager.engine, _EngineTap):
            manager.engine = _EngineTap(manager.engine, self._memo)

    def detach_queue(self) -> None:
        manager, self._manager = self._manager, None
        if manager is None:
            return
        if self.observe in manager.observers:
            manager.observers.remove(self.observe)
        if isinstance(manager.engine, _EngineTap):
            manager.engine = manager.engine.engine

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
    """``app.loggers``, created on first use and attached to ``app.queue_manager``."""
    hub = getattr(app, "loggers", None)
    if hub is None:
        hub = LogHub(config_getter=lambda: app.config, report=getattr(app, "log", None))
        app.loggers = hub
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


def _hub_of(session: Any) -> LogHub | None:
    app = getattr(getattr(session, "service", None), "app", None)
    return getattr(app, "loggers", None)


def log_reception(session: Any, batch: Any) -> None:
    """smtp/accept.py, after ``spool.store`` returned: the R lines of ``batch``."""
    hub = _hub_of(session)
    if hub is not None:
        try:
            hub.reception(batch, session.conn_id)
        except Exception as exc:  # noqa: BLE001 - logging never costs a message
            hub._say(f"reception not logged: {type(exc).__name__}: {exc}")


def log_refusal(session: Any, reply: Any) -> None:
    """smtp/session.py, for a reply of 400 or more: the rejectlog line."""
    hub = _hub_of(session)
    if hub is not None:
        try:
            hub.refusal(session, reply)
        except Exception as exc:  # noqa: BLE001 - logging never costs a session
            hub._say(f"rejection not logged: {type(exc).__name__}: {exc}")
