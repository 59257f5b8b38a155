"""sendmail_logger: our traffic as Sendmail's syslog lines, for logwatch, sma and Sendmail tooling.

Built per ``sendmail_logger`` stanza by modules/sendmail_logger.py; fed by log/service.py's
LogHub with log/facts.py events. Lines are syslog-shaped, tag ``sm-mta`` (Debian's
Sendmail): ``Mon dd HH:MM:SS host sm-mta[pid]: QID: ...`` where QID is derived one to one
from the Momentum batch id (``sendmail_qid``: 9 base62 characters of slot*65536+counter,
then the pid as 6 digits, the ``\\w{7,9}\\d{5,7}`` shape Sendmail analysers expect):

- first recipient of a received batch: ``QID: from=<sender>, size=N, class=0, nrcpts=N,
  msgid=<batch id as Momentum's Message-ID>, proto=ESMTP, daemon=MTA, relay=helo [ip]``
  (the message's own Message-ID header is not part of the event);
- delivery: ``QID: to=<rcpt>, delay=HH:MM:SS, xdelay=00:00:00, mailer=esmtp, pri=N,
  relay=[ip] [ip], dsn=2.0.0, stat=Sent (response)``; transient failure ``stat=Deferred:
  response``; permanent failure ``stat=response``. ``delay`` is the time since
  reception, ``xdelay`` (the attempt's own duration) is not measured and stays 0, ``pri``
  is Sendmail's formula size + 30000 * nrcpts + 90000 * retries;
- rejection (no queue id yet): ``NOQUEUE: ruleset=check_rcpt, arg1=<rcpt>, relay=[ip],
  reject=550 5.7.1 <rcpt>... Text`` (check_mail / check_relay / check_data by phase; the
  text's first letter is capitalised as Sendmail writes it: ``Relaying denied``).

Timestamps are local time, as syslog writes them. Never raises into the caller.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from ecelerity.core.msgid import decode

from .compat_base import FINAL_EVENTS, CompatLogger, one_line
from .compat_exim import _base62
from .compat_postfix import syslog_stamp

MODULE = "sendmail_logger"
WK_RECIP_FACT = 30000  # Sendmail's RecipientFactor
WK_TIME_FACT = 90000  # Sendmail's RetryFactor
RULESET_OF_PHASE = {"awaiting ehlo": "check_relay", "awaiting mailfrom": "check_mail",
                    "awaiting rcptto": "check_rcpt", "awaiting data": "check_data"}


def sendmail_qid(batch_id: Any) -> str:
    """A 15-character Sendmail queue id of a Momentum batch id (``NOQUEUE`` for anything else)."""
    try:
        slot, pid, counter = decode(str(batch_id))
    except ValueError:
        return "NOQUEUE"
    return f"{_base62(slot * 65536 + counter, 9)}{pid % 1_000_000:06d}"


def sendmail_delay(seconds: Any) -> str:
    """``HH:MM:SS``, with a ``D+`` day prefix past 24 hours, as Sendmail prints delays."""
    try:
        total = max(0, int(float(seconds or 0)))
    except (TypeError, ValueError):
        total = 0
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}+{text}" if days else text


def _dsn(facts: Mapping[str, Any], event: str) -> str:
    enhanced = one_line(facts.get("enhanced"))
    if enhanced:
        return enhanced
    code = str(facts.get("code") or "")
    if code[:1] in ("2", "4", "5"):
        return f"{code[0]}.0.0"
    return {"delivery": "2.0.0", "xfer": "2.0.0", "transient_failure": "4.0.0"}.get(event, "5.0.0")


def _address(command: Any) -> str:
    """``RCPT TO:<a@b>`` -> ``a@b`` ('' when there is none)."""
    text = one_line(command)
    start, end = text.find("<"), text.find(">")
    return text[start + 1:end] if 0 <= start < end else ""


class SendmailLogger(CompatLogger):
    """One sendmail_logger instance (see the module docstring for the lines)."""

    def __init__(self, path: str, *, hostname: str = "localhost", **kwargs: Any):
        super().__init__(path, name="sendmail_logger", **kwargs)
        self.hostname = one_line(hostname).split(".")[0] or "localhost"
        self.pid = os.getpid()

    def _line(self, facts: Mapping[str, Any], text: str) -> str:
        return f"{syslog_stamp(float(facts['ts']))} {self.hostname} sm-mta[{self.pid}]: {text}"

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        event = facts.get("event")
        if event == "reception":
            return self._reception(facts)
        if event in ("delivery", "xfer", "transient_failure", "permanent_failure"):
            return [self._attempt(facts, str(event))]
        if event == "rejection":
            return [self._rejection(facts)]
        return []

    def _reception(self, facts: Mapping[str, Any]) -> list[str]:
        batch = str(facts.get("batch_id"))
        if not self.batches.received(batch, str(facts.get("message_id"))):
            return []
        msgid = batch.replace("/", ".").replace("-", ".")
        helo = one_line(facts.get("helo"))
        relay = f"{helo} [{one_line(facts.get('source_ip'))}]" if helo else \
            f"[{one_line(facts.get('source_ip'))}]"
        protocol = "ESMTP" if one_line(facts.get("protocol")).lower() in ("esmtp", "") else \
            one_line(facts.get("protocol")).upper()
        return [self._line(facts, (
            f"{sendmail_qid(batch)}: from=<{one_line(facts.get('sender'))}>, "
            f"size={facts.get('size', 0)}, class=0, nrcpts={facts.get('nrcpt') or 1}, "
            f"msgid=<{msgid}@{self.hostname}>, proto={protocol}, daemon=MTA, relay={relay}"))]

    def _attempt(self, facts: Mapping[str, Any], event: str) -> str:
        batch = str(facts.get("batch_id"))
        remote = one_line(facts.get("remote_ip"))
        relay = f"[{remote}] [{remote}]" if remote else "[127.0.0.1] [127.0.0.1]"
        response = one_line(facts.get("response"))
        if event in ("delivery", "xfer"):
            stat = f"Sent ({response})" if response else "Sent"
        elif event == "transient_failure":
            stat = f"Deferred: {response}" if response else "Deferred"
        else:
            stat = response or "Service unavailable"
        priority = (int(facts.get("size") or 0) + WK_RECIP_FACT * int(facts.get("nrcpt") or 1)
                    + WK_TIME_FACT * int(facts.get("retries") or 0))
        if event in FINAL_EVENTS:
            self.batches.finished(batch, str(facts.get("message_id")))
        return self._line(facts, (
            f"{sendmail_qid(batch)}: to=<{one_line(facts.get('rcpt'))}>, "
            f"delay={sendmail_delay(facts.get('elapsed'))}, xdelay=00:00:00, mailer=esmtp, "
            f"pri={priority}, relay={relay}, dsn={_dsn(facts, event)}, stat={stat}"))

    def _rejection(self, facts: Mapping[str, Any]) -> str:
        mess = facts.get("ctx_mess") or {}
        conn = facts.get("ctx_conn") or {}
        peer_ip = str(facts.get("peer") or "").rsplit(":", 1)[0] or "unknown"
        phase = str(facts.get("phase"))
        ruleset = RULESET_OF_PHASE.get(phase, "check_rcpt")
        if ruleset == "check_mail":
            arg = f"<{_address(mess.get('mailfrom_string'))}>"
        elif ruleset == "check_relay":
            arg = one_line(conn.get("ehlo_domain")) or peer_ip
        else:
            arg = f"<{_address(mess.get('rcptto_string'))}>"
        text = one_line(facts.get("text"))
        text = text[:1].upper() + text[1:]
        code = one_line(facts.get("code"))
        enhanced = one_line(facts.get("enhanced"))
        reply = " ".join(part for part in (code, enhanced) if part)
        return self._line(facts, (
            f"NOQUEUE: ruleset={ruleset}, arg1={arg}, relay=[{peer_ip}], "
            f"reject={reply} {arg}... {text}"))
