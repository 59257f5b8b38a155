"""The rejection notice (Momentum's "MDN") a Sieve ``reject`` sends once the message is in.

Momentum (§4.2): before the message is complete ``reject`` answers 550; after that
the client gets success and the sender gets a bounce whose text is the reason.
phase_runner.py calls build_reject_notice and injects the result with a null sender
(PolicyHost.inject). The notice is an RFC 3464 multipart/report (a human part with
the reason, a message/delivery-status part with one ``Action: failed`` block per
refused recipient, and the original headers as text/rfc822-headers). Pure: builds
bytes, never sends.
"""
from __future__ import annotations

import socket
import uuid
from email.utils import formatdate


def _ascii(text: str) -> str:
    return " ".join(text.encode("ascii", "replace").decode().split())


def build_reject_notice(mail_from: str, recipients: list[str], reason: str, original: bytes, *,
                        hostname: str | None = None, mailer_daemon: str | None = None,
                        message_id: str = "", now: float | None = None) -> bytes:
    """The notice to ``mail_from`` that ``recipients`` refused the message for ``reason``."""
    hostname = hostname or socket.getfqdn()
    sender = mailer_daemon or f"MAILER-DAEMON@{hostname}"
    head, sep, _ = original.partition(b"\r\n\r\n")
    if not sep:
        head, _, _ = original.partition(b"\n\n")
    status = reason.split(" ", 1)[0] if _is_status(reason) else "5.7.1"
    text = reason.split(" ", 1)[1] if _is_status(reason) and " " in reason else reason
    boundary = f"{(message_id or uuid.uuid4().hex).replace('/', '.')}.{uuid.uuid4().hex[:12]}"
    lines = [
        f"From: Mail Delivery System <{sender}>", f"To: <{mail_from}>",
        "Subject: Message rejected by policy (Failure)", f"Date: {formatdate(now)}",
        f"Message-ID: <{uuid.uuid4().hex}@{hostname}>", "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "", "This is a MIME-encapsulated message.", "",
        f"--{boundary}", "Content-Type: text/plain; charset=us-ascii", "",
        f"This is the mail system at {hostname}.", "",
        "Your message was rejected by the recipient's policy and has not been delivered to:",
        *[f"    <{_ascii(r)}>" for r in recipients], "", "The reason given was:",
        f"    {_ascii(text)}", "",
        f"--{boundary}", "Content-Type: message/delivery-status", "",
        f"Reporting-MTA: dns; {hostname}", "",
    ]
    for rcpt in recipients:
        lines += [f"Final-Recipient: rfc822; {_ascii(rcpt)}", "Action: failed", f"Status: {status}",
                  f"Diagnostic-Code: smtp; 550 {status} {_ascii(text)}", ""]
    lines += [f"--{boundary}", "Content-Type: text/rfc822-headers", ""]
    body = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    headers = head.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").rstrip(b"\r\n") + b"\r\n"
    return body + headers + f"\r\n--{boundary}--\r\n".encode()


def _is_status(text: str) -> bool:
    head = text.split(" ", 1)[0].split(".")
    return len(head) == 3 and all(p.isdigit() for p in head) and head[0] in "45"
