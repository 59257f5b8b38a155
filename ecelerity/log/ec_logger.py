"""ec_logger: Momentum's mainlog, rejectlog, acctlog and importlog, written from SMTP,
delivery and spool-import events.

Built from the ``ec_logger`` module stanza (``EcLogger.from_config(cfg)``; options in
modules/ec_logger.py: mainlog, rejectlog, acctlog, importlog and their ``*_mode``,
heartbeat, and the log_receptions / log_deliveries / log_transient_failures /
log_permanent_failures / log_rejections switches; the global ``log_hires_timestamp``).
The importlog is written only when the stanza names it (off by default, as in
Momentum): one ``I`` line per message of a ``spool import`` (``record_import``, from
control/spool_import.py through LogHub.spool_import); it is reopened with the others. In the daemon,
log/service.py's LogHub hands it every event through ``record(facts)``; the
``log_reception`` / ``log_rejection`` / ``log_delivery`` / ``log_transient`` /
``log_permanent`` / ``log_auth`` / ``log_authz`` helpers build the facts themselves
(tools, tests); in the daemon the acctlog records come from log/service.py's
``log_smtp_auth`` (SMTP AUTH) and ``log_console_auth`` / ``log_console_authz`` (console). Each builds the event's facts (log/facts.py) and formats them (log/records.py) into a
buffered LogWriter (log/writer.py); construction, ``from_config`` and the
start/flush/reopen/close life cycle come from log/lifecycle.py's StanzaLogger.

The paniclog named in the stanza belongs to the daemon (log/paniclog.py), and so does
``log_errors``: false there drops the paniclog's error events (log/paniclog.py). Never
blocks and never raises into the caller: a log that cannot be written is reported to
the paniclog once, and mail keeps flowing.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from . import facts as event_facts
from . import records
from .lifecycle import StanzaLogger
from .writer import LogWriter

MODULE = "ec_logger"
_SWITCH_OF_EVENT = {"reception": "log_receptions", "delivery": "log_deliveries",
                    "xfer": "log_deliveries", "transient_failure": "log_transient_failures",
                    "permanent_failure": "log_permanent_failures",
                    "rejection": "log_rejections"}


class EcLogger(StanzaLogger):
    """One ec_logger instance: its log files, switches and heartbeat."""

    MODULE = MODULE

    def open_writers(self, log_dir: str, writer_args: dict[str, Any]) -> None:
        self.writers: dict[str, LogWriter] = {}
        for log in ("mainlog", "rejectlog", "acctlog"):
            path = self.settings.get(log) or os.path.join(log_dir, f"{log}.ec")
            self.writers[log] = LogWriter(str(path), mode=self.settings.get(f"{log}_mode", 0o644),
                                          name=log, **writer_args)
        if self.settings.get("importlog"):   # off unless configured
            self.writers["importlog"] = LogWriter(
                str(self.settings["importlog"]), mode=self.settings.get("importlog_mode", 0o644),
                name="importlog", **writer_args)

    @classmethod
    def from_config(cls, cfg: Any, *, report: Callable[[str, str], None] | None = None,
                    **kwargs: Any) -> EcLogger | None:
        """The first ``ec_logger`` stanza of ``cfg`` as an EcLogger, or None without one."""
        return cls.first_from_config(cfg, report=report, **kwargs)

    # -- events ------------------------------------------------------------------------
    def enabled(self, event: str) -> bool:
        """Whether this instance's switch for ``event`` (facts.py's event names) is on."""
        switch = _SWITCH_OF_EVENT.get(event)
        return switch is None or bool(self.settings.get(switch, True))

    def record(self, facts: Mapping[str, Any]) -> None:
        """Write an already-built event (facts.py) to the log its event belongs to."""
        event = facts["event"]
        if not self.enabled(event):
            return
        if event == "rejection":
            self.writers["rejectlog"].write_line(records.rejectlog_line(facts, self.hires))
        elif event in ("auth", "authz"):
            self.writers["acctlog"].write_line(records.acctlog_line(facts, self.hires))
        elif facts["type"] in records.MAINLOG_FIELDS:
            self.writers["mainlog"].write_line(records.mainlog_line(facts, self.hires))

    def record_import(self, facts: Mapping[str, Any]) -> None:
        """An importlog line (facts.import_facts), when this instance has an importlog."""
        writer = self.writers.get("importlog")
        if writer is not None:
            writer.write_line(records.importlog_line(facts, self.hires))

    def log_import(self, old_id: str, new_id: str | None, result: int, source: str, *,
                   when: float | None = None) -> None:
        """importlog I: message ``old_id`` of spool ``source`` became ``new_id``."""
        self.record_import(event_facts.import_facts(now=self._now(when), old_id=old_id,
                                                    new_id=new_id, result=result, source=source))

    def log_reception(self, msg: Any, conn_id: str | None = None, *,
                      when: float | None = None) -> None:
        """R: ``msg`` (a SpooledMessage) was accepted; ``conn_id`` is the inbound session."""
        if self.enabled("reception"):
            self.record(event_facts.reception_facts(msg, conn_id, now=self._now(when),
                                                    binding_group_of=self.binding_group_of))

    def _attempt(self, msg: Any, result: Any, kind: str, when: float | None) -> None:
        if self.enabled(event_facts.EVENT_OF_TYPE[kind]):
            self.record(event_facts.attempt_facts(msg, result, kind, now=self._now(when),
                                                  binding_group_of=self.binding_group_of))

    def log_delivery(self, msg: Any, result: Any, *, when: float | None = None) -> None:
        """D: delivered (``result`` is the delivery engine's DeliveryResult)."""
        self._attempt(msg, result, "D", when)

    def log_transient(self, msg: Any, result: Any, *, when: float | None = None) -> None:
        """T: this attempt failed temporarily; the message stays queued."""
        self._attempt(msg, result, "T", when)

    def log_permanent(self, msg: Any, result: Any, *, when: float | None = None) -> None:
        """P: failed for good (the bounce code writes the DSN, bounce_logger the B line)."""
        self._attempt(msg, result, "P", when)

    def log_rejection(self, peer: str, local: str, conn_id: str, phase: str, code: Any,
                      module: str, ctx_conn: Mapping[str, Any] | None,
                      ctx_mess: Mapping[str, Any] | None, text: str, *,
                      pathway: str = "default", pathway_group: str = "default",
                      when: float | None = None) -> None:
        """A rejectlog line: an SMTP command of ``peer`` ("ip:port") was refused."""
        if self.enabled("rejection"):
            self.record(event_facts.rejection_facts(
                now=self._now(when), peer=peer, local=local, conn_id=conn_id, phase=phase,
                code=code, module=module, ctx_conn=dict(ctx_conn or {}),
                ctx_mess=dict(ctx_mess or {}), text=text, pathway=pathway,
                pathway_group=pathway_group))

    def log_auth(self, endpoint: str, peer: str, user: str, ok: bool, *, timeout: bool = False,
                 when: float | None = None) -> None:
        """acctlog N (or T for a timeout): an authentication attempt and its result."""
        self.record(event_facts.acct_facts(now=self._now(when), kind="T" if timeout else "N",
                                           endpoint=endpoint, peer=peer, user=user,
                                           result=1 if ok else 0))

    def log_authz(self, endpoint: str, peer: str, user: str, result: int, command: str,
                  role: str, *, when: float | None = None) -> None:
        """acctlog Z: a console command was allowed (1), denied (0) or failed (-1)."""
        self.record(event_facts.acct_facts(now=self._now(when), kind="Z", endpoint=endpoint,
                                           peer=peer, user=user, result=result,
                                           command=command, role=role))

    def heartbeat(self, when: float | None = None) -> None:
        """The ``M`` mainlog line and the rejectlog ``Marker 1`` line."""
        now = self._now(when)
        self.writers["mainlog"].write_line(records.mainlog_heartbeat(now, self.hires))
        self.writers["rejectlog"].write_line(records.rejectlog_heartbeat(now, self.hires))
