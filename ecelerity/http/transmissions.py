"""A Transmissions API body (``POST /api/v1/transmissions``) -> one message per recipient.

Called by inject.py with the decoded JSON (momentum-facts.md §5.6). Supported:
``recipients`` (an array; each ``address`` a string or ``{email, name, header_to}``,
with its own ``return_path``, ``metadata``, ``substitution_data``, ``tags``),
``content`` inline (``from`` string or ``{name, email}``, ``subject``, ``text``,
``html``, ``reply_to``, ``headers``, ``attachments`` and ``inline_images``: content.py
builds the MIME tree) or ``{email_rfc822}``, ``return_path``,
``campaign_id``, ``metadata``, ``substitution_data``. ``{{name}}`` and
``{{a.b}}`` are substituted from the recipient's data over the transmission's (plus
``address``); in html the values are HTML-escaped, ``{{{name}}}`` is not. Not
supported (422): stored lists (``{list_id}``), stored templates. ``options`` are not
read (start_time, sandbox, tracking: not implemented).
Invalid requests raise TransmissionError with Momentum's extended code; a
recipient without a valid address, or whose substitution data would put a line break
in a header, is counted as rejected. Never does I/O.
"""
from __future__ import annotations

import email.policy
import email.utils
import html
import json
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from .content import Parts, fill_body, read_parts
from .errors import TransmissionError

__all__ = ["Rendered", "TransmissionError", "render_transmission", "substitute"]

_VAR = re.compile(r"\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([\w.]+)\s*\}\}")
_FORBIDDEN_HEADERS = {"subject", "from", "to", "reply-to", "content-type",
                      "content-transfer-encoding", "mime-version"}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@\[[0-9a-fA-F:.]+\]$")
MAX_CAMPAIGN_ID = 64


@dataclass
class Rendered:
    """One message to spool: envelope sender, one recipient, bytes and message context."""

    mail_from: str
    recipient: str
    data: bytes  # header block + body, CRLF line ends (no Message-ID yet)
    context: dict[str, str] = field(default_factory=dict)


def _missing(name: str) -> TransmissionError:
    return TransmissionError(422, "required field is missing", "1400", f"{name} is a required field")


def _invalid(description: str) -> TransmissionError:
    return TransmissionError(422, "invalid data format/type", "1300", description)


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return "" if value is None else value


def substitute(text: str, data: dict[str, Any], *, escape_html: bool = False) -> str:
    """Replace ``{{name}}`` / ``{{a.b}}`` (``{{{name}}}`` never escaped); unknown -> ""."""
    def value_of(match: re.Match[str]) -> str:
        raw, name = match.group(1), match.group(2)
        value = _lookup(data, raw or name)
        text_value = value if isinstance(value, str) else json.dumps(value) \
            if isinstance(value, (dict, list)) else str(value)
        return html.escape(text_value) if escape_html and name else text_value
    return _VAR.sub(value_of, text)


def _address(entry: Any) -> tuple[str, str, str | None]:
    """(email, display name, header_to) of a recipient's ``address`` field."""
    if isinstance(entry, str):
        name, addr = email.utils.parseaddr(entry)
        return addr or entry, name, None
    if isinstance(entry, dict):
        header_to = entry.get("header_to")
        return str(entry.get("email") or ""), str(entry.get("name") or ""), \
            str(header_to) if header_to else None
    return "", "", None


def _sender(content: dict[str, Any]) -> tuple[str, str]:
    sender = content.get("from")
    if isinstance(sender, dict):
        return str(sender.get("email") or ""), str(sender.get("name") or "")
    if isinstance(sender, str):
        name, addr = email.utils.parseaddr(sender)
        return addr or sender, name
    raise _missing("content.from")


def _recipients(payload: dict[str, Any]) -> list[dict[str, Any]]:
    recipients = payload.get("recipients")
    if isinstance(recipients, dict) and "list_id" in recipients:
        raise _invalid("stored recipient lists (list_id) are not supported; send the array")
    if recipients is None:
        raise _missing("recipients")
    if not isinstance(recipients, list) or not recipients:
        raise _invalid("recipients must be a non-empty array")
    return [r if isinstance(r, dict) else {"address": r} for r in recipients]


def _check_content(content: Any) -> dict[str, Any]:
    if not isinstance(content, dict):
        raise _missing("content")
    if "template_id" in content:
        raise _invalid("stored templates (template_id) are not supported; send inline content")
    if "email_rfc822" in content:
        if not isinstance(content["email_rfc822"], str) or not content["email_rfc822"].strip():
            raise _invalid("content.email_rfc822 must be a non-empty string")
        return content
    _sender(content)
    if not content.get("subject"):
        raise _missing("content.subject")
    if not (content.get("text") or content.get("html")):
        raise _missing("content.text or content.html")
    headers = content.get("headers") or {}
    if not isinstance(headers, dict):
        raise _invalid("content.headers must be an object")
    for name, value in headers.items():
        if str(name).lower() in _FORBIDDEN_HEADERS:
            raise _invalid(f"content.headers may not set {name}")
        if not re.fullmatch(r"[!-9;-~]+", str(name)) or re.search(r"[\r\n]", str(value)):
            raise _invalid(f"content.headers: bad header {name!r}")
    return content


def _crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


def _inline_message(content: dict[str, Any], data: dict[str, Any], rcpt: tuple,
                    parts: Parts) -> bytes:
    rcpt_email, rcpt_name, header_to = rcpt
    sender_email, sender_name = _sender(content)
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = email.utils.formataddr((substitute(sender_name, data), sender_email))
    message["To"] = substitute(header_to, data) if header_to else \
        email.utils.formataddr((rcpt_name, rcpt_email))
    message["Subject"] = substitute(str(content["subject"]), data)
    if content.get("reply_to"):
        message["Reply-To"] = substitute(str(content["reply_to"]), data)
    message["Date"] = email.utils.formatdate(localtime=True)
    for name, value in (content.get("headers") or {}).items():
        message[str(name)] = substitute(str(value), data)
    text, body_html = content.get("text"), content.get("html")
    fill_body(message, substitute(str(text), data) if text else None,
              substitute(str(body_html), data, escape_html=True) if body_html else None, parts)
    return _crlf(message.as_bytes())


def render_transmission(payload: Any) -> tuple[list[Rendered], int]:
    """The messages to spool and the number of recipients rejected as invalid."""
    if not isinstance(payload, dict):
        raise _invalid("the request body must be a JSON object")
    recipients = _recipients(payload)
    content = _check_content(payload.get("content"))
    parts = Parts() if "email_rfc822" in content else read_parts(content)
    campaign = payload.get("campaign_id")
    if campaign is not None and len(str(campaign).encode()) > MAX_CAMPAIGN_ID:
        raise _invalid(f"campaign_id is longer than {MAX_CAMPAIGN_ID} bytes")
    base_data = payload.get("substitution_data") or {}
    base_meta = payload.get("metadata") or {}
    if not isinstance(base_data, dict) or not isinstance(base_meta, dict):
        raise _invalid("substitution_data and metadata must be objects")
    rendered, rejected = [], 0
    for recipient in recipients:
        rcpt = _address(recipient.get("address"))
        if not _ADDRESS.match(rcpt[0]):
            rejected += 1
            continue
        data = {**base_data, **(recipient.get("substitution_data") or {}),
                "address": {"email": rcpt[0], "name": rcpt[1]}}
        meta = {**base_meta, **(recipient.get("metadata") or {})}
        if "email_rfc822" in content:
            body = _crlf(substitute(content["email_rfc822"], data).encode("utf-8"))
            sender = email.utils.parseaddr(
                email.message_from_bytes(body).get("From", ""))[1]
        else:
            try:
                body = _inline_message(content, data, rcpt, parts)
            except ValueError:  # a substituted header value holds a line break: no injection
                rejected += 1
                continue
            sender = _sender(content)[0]
        return_path = recipient.get("return_path") or payload.get("return_path") or sender
        context = {"campaign_id": str(campaign or ""), "metadata": json.dumps(meta)}
        if recipient.get("tags"):
            context["tags"] = json.dumps(recipient["tags"])
        rendered.append(Rendered(str(return_path), rcpt[0], body, context))
    return rendered, rejected
