"""postfix_logger: our traffic as Postfix's syslog lines, for pflogsumm and Postfix tooling.

Built per ``postfix_logger`` stanza by modules/postfix_logger.py; fed by log/service.py's
LogHub with log/facts.py events. Lines (syslog form ``Mon dd HH:MM:SS host
postfix/<daemon>[pid]: ...``; the queue id is the batch id with its ``/`` and ``-``
removed, e.g. ``10/00-23639-037120B6`` -> ``100023639037120B6``):

- first recipient of a received batch: ``smtpd: QID: client=unknown[ip]`` and
  ``qmgr: QID: from=<sender>, size=N, nrcpt=N (queue active)``;
- delivery / transient / permanent failure: ``smtp: QID: to=<rcpt>, relay=ip[ip]:25,
  delay=S, delays=0/0/0/S, dsn=X.Y.Z, status=sent|deferred|bounced (response)``;
- the last recipient of a batch done: ``qmgr: QID: removed``;
- rejection: ``smtpd: NOQUEUE: reject: RCPT from unknown[ip]: 550 5.7.1 <rcpt>: text;
  from=<sender> to=<rcpt> proto=ESMTP helo=<helo>`` (the verb follows the phase).

Timestamps are local time, as syslog writes them. Never raises into the caller.
"""
from __future__ import annotations

import os
import time
from typing import Any, Mapping

from .compat_base import FINAL_EVENTS, CompatLogger, one_line

MODULE = "postfix_logger"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STATUS_OF_EVENT = {"delivery": "sent", "xfer": "sent", "transient_failure": "deferred",
                   "permanent_failure": "bounced"}
VERB_OF_PHASE = {"awaiting ehlo": "CONNECT", "awaiting mailfrom": "MAIL",
                 "awaiting rcptto": "RCPT", "awaiting data": "RCPT"}


def queue_id(batch_id: Any) -> str:
    """A Postfix-style queue id (letters and digits only) from a Momentum batch id."""
    return "".join(char for char in str(batch_id or "") if char.isalnum()) or "NOQUEUE"


def syslog_stamp(when: float) -> str:
    moment = time.localtime(when)
    return f"{MONTHS[moment.tm_mon - 1]} {moment.tm_mday:2d} {time.strftime('%H:%M:%S', moment)}"


def _peer_ip(facts: Mapping[str, Any]) -> str:
    return str(facts.get("source_ip") or str(facts.get("peer") or "").rsplit(":", 1)[0] or "unknown")


class PostfixLogger(CompatLogger):
    """One postfix_logger instance (see the module docstring for the lines)."""

    def __init__(self, path: str, *, hostname: str = "localhost", **kwargs: Any):
        super().__init__(path, name="postfix_logger", **kwargs)
        self.hostname = one_line(hostname) or "localhost"
        self.pid = os.getpid()

    def _line(self, facts: Mapping[str, Any], daemon: str, text: str) -> str:
        return (f"{syslog_stamp(float(facts['ts']))} {self.hostname} "
                f"postfix/{daemon}[{self.pid}]: {text}")

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        event = facts.get("event")
        if event == "reception":
            return self._reception(facts)
        if event in STATUS_OF_EVENT:
            return self._attempt(facts, event)
        if event == "rejection":
            return [self._rejection(facts)]
        return []

    def _reception(self, facts: Mapping[str, Any]) -> list[str]:
        qid = queue_id(facts.get("batch_id"))
        if not self.batches.received(qid, str(facts.get("message_id"))):
            return []
        sender = one_line(facts.get("sender"))
        return [self._line(facts, "smtpd", f"{qid}: client=unknown[{_peer_ip(facts)}]"),
                self._line(facts, "qmgr", f"{qid}: from=<{sender}>, size={facts.get('size', 0)}, "
                                          f"nrcpt={facts.get('nrcpt') or 1} (queue active)")]

    def _attempt(self, facts: Mapping[str, Any], event: str) -> list[str]:
        qid = queue_id(facts.get("batch_id"))
        remote = one_line(facts.get("remote_ip")) or "none"
        relay = f"{remote}[{remote}]:25" if remote != "none" else "none"
        elapsed = float(facts.get("elapsed") or 0.0)
        dsn = one_line(facts.get("enhanced")) or _dsn_of(facts.get("code"))
        response = one_line(facts.get("response")).replace("(", "[").replace(")", "]")
        lines = [self._line(facts, "smtp", (
            f"{qid}: to=<{one_line(facts.get('rcpt'))}>, relay={relay}, delay={elapsed:.2g}, "
            f"delays=0/0/0/{elapsed:.2g}, dsn={dsn}, status={STATUS_OF_EVENT[event]} "
            f"({response})"))]
        if event in FINAL_EVENTS and self.batches.finished(qid, str(facts.get("message_id"))):
            lines.append(self._line(facts, "qmgr", f"{qid}: removed"))
        return lines

    def _rejection(self, facts: Mapping[str, Any]) -> str:
        mess = facts.get("ctx_mess") or {}
        conn = facts.get("ctx_conn") or {}
        sender = one_line(_address(mess.get("mailfrom_string")))
        rcpt = one_line(_address(mess.get("rcptto_string")))
        verb = VERB_OF_PHASE.get(str(facts.get("phase")), "RCPT")
        return self._line(facts, "smtpd", (
            f"NOQUEUE: reject: {verb} from unknown[{_peer_ip(facts)}]: {facts.get('code')} "
            f"<{rcpt}>: {one_line(facts.get('text'))}; from=<{sender}> to=<{rcpt}> "
            f"proto=ESMTP helo=<{one_line(conn.get('ehlo_domain'))}>"))


def _dsn_of(code: Any) -> str:
    text = str(code or "")
    return f"{text[0]}.0.0" if text[:1] in ("2", "4", "5") else "4.0.0"


def _address(command: Any) -> str:
    """``MAIL FROM:<a@b> SIZE=1`` -> ``a@b`` ('' when there is none)."""
    text = str(command or "")
    start, end = text.find("<"), text.find(">")
    return text[start + 1:end] if 0 <= start < end else ""
