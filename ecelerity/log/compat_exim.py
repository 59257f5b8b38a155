"""exim_logger: our traffic as Exim's mainlog lines, for eximstats and Exim tooling.

Built per ``exim_logger`` stanza by modules/exim_logger.py; fed by log/service.py's
LogHub with log/facts.py events. Lines (``YYYY-MM-DD HH:MM:SS <exim id> <flag> ...``,
local time):

- first recipient of a received batch: ``<= sender H=(helo) [ip] P=esmtp S=size
  id=<batch id>``;
- delivery: ``=> rcpt R=dnslookup T=remote_smtp H=ip [ip] C="response"``;
- transient failure: ``== rcpt R=dnslookup T=remote_smtp defer (0) H=ip [ip]: response``;
- permanent failure: ``** rcpt R=dnslookup T=remote_smtp H=ip [ip]: response``;
- the last recipient of a batch done: ``Completed``;
- rejection (no id): ``H=(helo) [ip] F=<sender> rejected RCPT <rcpt>: text``.

The Exim id (16 characters, 6-6-2, what eximstats reads at a fixed column) is derived
from the Momentum batch id, one to one: base62(slot) - base62(pid * 65536 + counter)
- ``00`` (``exim_id``). Never raises into the caller.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from ecelerity.core.msgid import decode

from .compat_base import FINAL_EVENTS, CompatLogger, one_line

MODULE = "exim_logger"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FLAG_OF_EVENT = {"delivery": "=>", "xfer": "=>", "transient_failure": "==",
                 "permanent_failure": "**"}


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def exim_id(batch_id: Any) -> str:
    """The 16-character Exim message id of a Momentum batch id (zeros for anything else)."""
    try:
        slot, pid, counter = decode(str(batch_id))
    except ValueError:
        return "000000-000000-00"
    return f"{_base62(slot, 6)}-{_base62(pid * 65536 + counter, 6)}-00"


def exim_stamp(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def _host(facts: Mapping[str, Any]) -> str:
    ip = one_line(facts.get("remote_ip"))
    return f"H={ip} [{ip}]" if ip else "H=localhost [127.0.0.1]"


class EximLogger(CompatLogger):
    """One exim_logger instance (see the module docstring for the lines)."""

    def __init__(self, path: str, **kwargs: Any):
        super().__init__(path, name="exim_logger", **kwargs)

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        event = facts.get("event")
        stamp = exim_stamp(float(facts["ts"]))
        if event == "rejection":
            return [f"{stamp} {self._rejection(facts)}"]
        if event != "reception" and event not in FLAG_OF_EVENT:
            return []
        batch = str(facts.get("batch_id"))
        prefix = f"{stamp} {exim_id(batch)}"
        if event == "reception":
            if not self.batches.received(batch, str(facts.get("message_id"))):
                return []
            sender = one_line(facts.get("sender")) or "<>"
            helo = one_line(facts.get("helo"))
            return [f"{prefix} <= {sender} H=({helo}) [{one_line(facts.get('source_ip'))}] "
                    f"P={one_line(facts.get('protocol')) or 'esmtp'} S={facts.get('size', 0)} "
                    f"id={batch}"]
        rcpt = one_line(facts.get("rcpt"))
        response = one_line(facts.get("response"))
        route = f"{rcpt} R=dnslookup T=remote_smtp"
        if event in ("delivery", "xfer"):
            text = f'{route} {_host(facts)} C="{response.replace(chr(34), chr(39))}"'
        elif event == "transient_failure":
            text = f"{route} defer (0) {_host(facts)}: {response}"
        else:
            text = f"{route} {_host(facts)}: {response}"
        lines = [f"{prefix} {FLAG_OF_EVENT[event]} {text}"]
        if event in FINAL_EVENTS and self.batches.finished(batch, str(facts.get("message_id"))):
            lines.append(f"{prefix} Completed")
        return lines

    @staticmethod
    def _rejection(facts: Mapping[str, Any]) -> str:
        mess = facts.get("ctx_mess") or {}
        conn = facts.get("ctx_conn") or {}
        peer_ip = str(facts.get("peer") or "").rsplit(":", 1)[0]
        sender = _address(mess.get("mailfrom_string"))
        rcpt = _address(mess.get("rcptto_string"))
        phase = str(facts.get("phase"))
        verb = {"awaiting mailfrom": "MAIL", "awaiting ehlo": "connection"}.get(phase, "RCPT")
        what = f"rejected {verb} <{rcpt}>" if verb == "RCPT" else f"rejected {verb}"
        return (f"H=({one_line(conn.get('ehlo_domain'))}) [{peer_ip}] F=<{sender}> {what}: "
                f"{one_line(facts.get('text'))}")


def _address(command: Any) -> str:
    text = one_line(command)
    start, end = text.find("<"), text.find(">")
    return text[start + 1:end] if 0 <= start < end else ""
