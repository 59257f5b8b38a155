"""msys.rfc3464.*: read delivery status notifications, write DSN fields and MDNs.

Installed by libraries.py. ``msg`` arguments are an ec_message proxy or the raw
message as a string.
  msys.rfc3464.extract_delivery_status(msg) -> table or nil: the per-message fields of
      the message/delivery-status part (lower-case names: ``["reporting-mta"]``...) plus
      ``recipients``, an array of per-recipient field tables (``["final-recipient"]``,
      ``action``, ``status``, ``["diagnostic-code"]``...); nil when msg is not a DSN.
  msys.rfc3464.compute_delivery_status(recipient, action, status [, diagnostic
      [, remote_mta]]) -> {per_message = {...}, per_recipient = {...}} and
  msys.rfc3464.compute_delivery_status_string(...) -> the same as the text of a
      message/delivery-status body (RFC 3464 §2.2-2.3, CRLF lines).
  msys.rfc3464.create_mdn(msg [, disposition [, text]]) -> a new ec_message: an RFC 8098
      disposition notification (default "automatic-action/MDN-sent-automatically;
      displayed") to Disposition-Notification-To (else From), not yet injected;
  msys.rfc3464.send_mdn(msg [, disposition [, text]]) -> batch id: the same, injected
      with a null sender (lib_inject.py). nil, reason when there is nobody to notify.
The DSN parsing is the email package's; never does I/O except through the injector.
"""
from __future__ import annotations

import email
import email.policy
import socket
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from .bindings_compose import build_message


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def raw_of(runtime: Any, msg: Any) -> bytes:
    if isinstance(msg, bytes):
        return msg
    if runtime.sandbox.lua_type(msg) == "table" and msg[b"raw"] is not None:
        return bytes(msg[b"raw"](msg))
    raise TypeError("expected an ec_message or a message string")


def _fields(block: Any) -> dict[str, str]:
    return {name.lower(): " ".join(str(value).split()) for name, value in block.items()}


def extract_delivery_status(runtime: Any, msg: Any) -> Any:
    parsed = email.message_from_bytes(raw_of(runtime, msg), policy=email.policy.compat32)
    for part in parsed.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if isinstance(blocks, str):  # not split by the parser: parse the blocks ourselves
            blocks = [email.message_from_string(chunk.strip() + "\n")
                      for chunk in blocks.replace("\r\n", "\n").split("\n\n") if chunk.strip()]
        if not blocks:
            return None
        result: dict[str, Any] = _fields(blocks[0])
        result["recipients"] = [_fields(block) for block in blocks[1:]]
        return runtime.to_lua(result)
    return None


def _status_fields(recipient: Any, action: Any, status: Any, diagnostic: Any = None,
                   remote_mta: Any = None) -> tuple[dict[str, str], dict[str, str]]:
    status_text = _text(status)
    if not (len(status_text) >= 5 and status_text[0] in "245" and status_text[1] == "."):
        raise ValueError(f"status must be an RFC 3463 code like 5.1.1, not {status_text!r}")
    action_text = _text(action).lower()
    if action_text not in ("failed", "delayed", "delivered", "relayed", "expanded"):
        raise ValueError(f"action must be failed|delayed|delivered|relayed|expanded, "
                         f"not {action_text!r}")
    per_message = {"Reporting-MTA": f"dns; {socket.getfqdn()}",
                   "Arrival-Date": formatdate(localtime=True)}
    per_recipient = {"Final-Recipient": f"rfc822; {_text(recipient)}", "Action": action_text,
                     "Status": status_text}
    if remote_mta:
        per_recipient["Remote-MTA"] = f"dns; {_text(remote_mta)}"
    if diagnostic:
        per_recipient["Diagnostic-Code"] = f"smtp; {_text(diagnostic)}"
    per_recipient["Last-Attempt-Date"] = formatdate(localtime=True)
    return per_message, per_recipient


def compute_delivery_status(runtime: Any, *args: Any) -> Any:
    per_message, per_recipient = _status_fields(*args)
    return runtime.to_lua({"per_message": per_message, "per_recipient": per_recipient})


def compute_delivery_status_string(runtime: Any, *args: Any) -> bytes:
    per_message, per_recipient = _status_fields(*args)
    lines = [f"{k}: {v}" for k, v in per_message.items()] + [""]
    lines += [f"{k}: {v}" for k, v in per_recipient.items()]
    return ("\r\n".join(lines) + "\r\n").encode()


def mdn_bytes(original: bytes, disposition: str, text: str) -> tuple[bytes, str] | None:
    """(MDN bytes, recipient) for ``original``, or None when it names nobody."""
    parsed = email.message_from_bytes(original, policy=email.policy.compat32)
    targets = getaddresses(parsed.get_all("Disposition-Notification-To", [])
                           or parsed.get_all("From", []))
    recipient = next((address for _, address in targets if "@" in address), None)
    if recipient is None:
        return None
    host = socket.getfqdn()
    original_recipient = parsed.get("To", "")
    report = "\r\n".join([f"Reporting-UA: {host}; ecelerity",
                          f"Final-Recipient: rfc822; {original_recipient}",
                          f"Original-Message-ID: {parsed.get('Message-ID', '')}",
                          f"Disposition: {disposition}", ""]).encode()
    headers = {"From": f"MAILER-DAEMON@{host}", "To": recipient,
               "Subject": f"Disposition notification: {parsed.get('Subject', '')}",
               "Date": formatdate(localtime=True), "Message-ID": make_msgid(domain=host),
               "Auto-Submitted": "auto-replied"}
    body = build_message(headers, [("text/plain; charset=utf-8", text.encode()),
                                   ("message/disposition-notification", report)], [])
    body = body.replace(b"multipart/alternative", b"multipart/report; "
                        b"report-type=disposition-notification", 1)
    return body, recipient


def _mdn(runtime: Any, msg: Any, disposition: Any, text: Any) -> tuple[bytes, str] | None:
    return mdn_bytes(raw_of(runtime, msg),
                     _text(disposition or "automatic-action/MDN-sent-automatically; displayed"),
                     _text(text or "This is a disposition notification for your message."))


def create_mdn(runtime: Any, msg: Any, disposition: Any = None, text: Any = None) -> Any:
    from .lib_inject import ec_message_new
    made = _mdn(runtime, msg, disposition, text)
    if made is None:
        return None, b"no Disposition-Notification-To or From address"
    new = ec_message_new(runtime)
    new[b"raw"](new, made[0])
    return new


def send_mdn(runtime: Any, msg: Any, disposition: Any = None, text: Any = None) -> Any:
    from .lib_inject import inject_bytes
    made = _mdn(runtime, msg, disposition, text)
    if made is None:
        return None, b"no Disposition-Notification-To or From address"
    return inject_bytes(runtime, made[0], "", [made[1]]).encode()


FUNCTIONS = {
    "msys.rfc3464.extract_delivery_status": extract_delivery_status,
    "msys.rfc3464.compute_delivery_status": compute_delivery_status,
    "msys.rfc3464.compute_delivery_status_string": compute_delivery_status_string,
    "msys.rfc3464.create_mdn": create_mdn, "msys.rfc3464.send_mdn": send_mdn,
}
