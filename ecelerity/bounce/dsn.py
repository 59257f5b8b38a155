"""RFC 3464 delivery status notifications: the bounce (action=failed) and delay
(action=delayed) messages sent back to a message's sender.

Called by the queue when a message fails permanently or (generate_delay_dsn) is
delayed; it injects the returned (Envelope, bytes) like any other message (null
sender, protocol "internal"). Returns None when no DSN must be sent: a null sender
(never bounce a bounce), NOTIFY=NEVER or a NOTIFY list without this action,
``generate_bounces`` off (failed) or ``generate_delay_dsn`` off (delayed).

Content: multipart/report; report-type=delivery-status with a human-readable part,
a message/delivery-status part (Reporting-MTA, Original-Envelope-Id, Arrival-Date;
Final-Recipient, Original-Recipient from ORCPT, Action, Status, Remote-MTA,
Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until for delays, and for failures the
extension field X-Bounce-Classification from bounce/classify.py, which applies the
``bounce_classification_rules`` overrides) and the original:
the DSN RET parameter wins (HDRS -> headers, FULL -> whole message), else
``bounces_inline_original`` (headers | all | none). From: ``mailerdaemon``, else
MAILER-DAEMON@<hostname>. Pure: builds bytes, never sends, never touches the spool.
"""
from __future__ import annotations

import re
import socket
import time
import uuid
from email.utils import format_datetime, formatdate
from datetime import datetime, timezone
from typing import Any

from ecelerity.bounce.classify import classify, name_of
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_records import SpooledMessage

_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")


def wants_dsn(notify: str | None, action: str) -> bool:
    """RFC 3461 NOTIFY: None means the default (failures and delays), NEVER means none."""
    if notify is None:
        return True
    words = {word.strip().upper() for word in notify.split(",")}
    if "NEVER" in words:
        return False
    return ("FAILURE" if action == "failed" else "DELAY") in words


def _date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, timezone.utc))


def _status_of(code: int, enhanced: str) -> str:
    if enhanced:
        return enhanced
    return f"{str(code)[0]}.0.0" if str(code)[:1] in ("4", "5") else "5.0.0"


def _split_original(body: bytes) -> tuple[bytes, bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = body.partition(separator)
        if found:
            return head + separator[: len(separator) // 2], rest
    return body, b""


def _crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


def build_dsn(msg: SpooledMessage, result: Any | None, *, reason: str, cfg: Any, body: bytes,
              action: str = "failed", now: float | None = None) -> tuple[Envelope, bytes] | None:
    """The DSN for one recipient-message, or None when none is due (module docstring).

    ``reason`` is the response as logged (``550 5.1.1 no such user``); ``result`` (a
    DeliveryResult, or None for internal failures like expiry) gives the remote IP."""
    envelope = msg.envelope
    if not envelope.mail_from or not wants_dsn(msg.recipient.notify, action):
        return None
    scope = {"binding": msg.binding, "domain": msg.domain}
    if action == "failed" and not cfg.get("generate_bounces", **scope):
        return None
    if action == "delayed" and not cfg.get("generate_delay_dsn", **scope):
        return None
    now = time.time() if now is None else now
    hostname = cfg.get("hostname") or socket.getfqdn()
    sender = cfg.get("mailerdaemon", **scope) or f"MAILER-DAEMON@{hostname}"
    code, enhanced, text = _parse_reason(reason)
    if result is not None and result.code:
        code, enhanced = result.code, result.enhanced or enhanced
    boundary = f"{msg.id.replace('/', '.')}.{uuid.uuid4().hex}"
    tail = _original_part(boundary, body, envelope.ret, cfg.get("bounces_inline_original", **scope))
    lines = [
        f"From: Mail Delivery System <{sender}>", f"To: <{envelope.mail_from}>",
        "Subject: " + ("Delivery Status Notification (Failure)" if action == "failed"
                       else "Delivery Status Notification (Delay)"),
        f"Date: {formatdate(now)}", f"Message-ID: <{uuid.uuid4().hex}@{hostname}>",
        "Auto-Submitted: auto-replied", "MIME-Version: 1.0",
        *([] if tail.isascii() else ["Content-Transfer-Encoding: 8bit"]),
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "", "This is a MIME-encapsulated message.", "",
        f"--{boundary}", "Content-Type: text/plain; charset=us-ascii", "",
        *_human_text(msg, reason, action, hostname), "",
        f"--{boundary}", "Content-Type: message/delivery-status", "",
        *_status_fields(msg, result, code, enhanced, reason, action, hostname, now, cfg), "",
    ]
    head = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    data = head + tail + f"--{boundary}--\r\n".encode()
    dsn_envelope = Envelope(mail_from="", recipients=[Recipient(envelope.mail_from)],
                            protocol="internal", received_at=now, binding=msg.binding)
    return dsn_envelope, data


def _parse_reason(reason: str) -> tuple[int, str, str]:
    match = re.match(r"^(\d{3})(?:\s+([245]\.\d{1,3}\.\d{1,3}))?\s*(.*)$", reason.strip(), re.S)
    if not match:
        return 554, "", reason
    return int(match.group(1)), match.group(2) or "", match.group(3)


def _human_text(msg: SpooledMessage, reason: str, action: str, hostname: str) -> list[str]:
    address = msg.recipient.address.encode("ascii", "replace").decode()
    what = ("could not be delivered and has been returned" if action == "failed"
            else "has been delayed; delivery will be retried")
    return [f"This is the mail system at {hostname}.", "",
            f"Your message to <{address}> {what}.", "",
            "The reason given was:", "    " + reason.encode("ascii", "replace").decode()]


def _status_fields(msg: SpooledMessage, result: Any | None, code: int, enhanced: str,
                   reason: str, action: str, hostname: str, now: float, cfg: Any) -> list[str]:
    envelope = msg.envelope
    fields = [f"Reporting-MTA: dns; {hostname}"]
    if envelope.envid:
        fields.append(f"Original-Envelope-Id: {envelope.envid}")
    fields.append(f"Arrival-Date: {_date(envelope.received_at or msg.created or now)}")
    fields.append("")
    orcpt = msg.recipient.orcpt
    if orcpt:
        kind, _, value = orcpt.partition(";")
        decoded = _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), value)
        fields.append(f"Original-Recipient: {kind}; {decoded}")
    fields += [f"Final-Recipient: rfc822; {msg.recipient.address}", f"Action: {action}",
               f"Status: {_status_of(code, enhanced)}"]
    if result is not None and result.remote_ip:
        fields.append(f"Remote-MTA: dns; [{result.remote_ip}]")
    fields.append(f"Diagnostic-Code: smtp; {' '.join(reason.split())}")
    if action == "failed":   # RFC 3464 extension field: Momentum's classification code
        code_class = classify(code, enhanced, _parse_reason(reason)[2])
        fields.append(f"X-Bounce-Classification: {code_class} ({name_of(code_class)})")
    fields.append(f"Last-Attempt-Date: {_date(now)}")
    if action == "delayed":
        expiry = cfg.get("message_expiration", binding=msg.binding, domain=msg.domain)
        fields.append(f"Will-Retry-Until: {_date((msg.created or now) + expiry)}")
    return fields


def _original_part(boundary: str, body: bytes, ret: str | None, inline: str) -> bytes:
    what = {"HDRS": "headers", "FULL": "all"}.get((ret or "").upper(), inline)
    if what == "none":
        return b""
    headers, _ = _split_original(body)
    if what == "headers":
        content_type, payload = "text/rfc822-headers", _crlf(headers)
    else:
        content_type, payload = "message/rfc822", _crlf(body)
    encoding = "" if payload.isascii() else "Content-Transfer-Encoding: 8bit\r\n"
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return (f"--{boundary}\r\nContent-Type: {content_type}\r\n{encoding}\r\n".encode()
            + payload)
