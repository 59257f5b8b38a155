"""The Momentum 3 REST injector body (``POST /v1.0/inject/``) -> one message per recipient.

Called by inject.py. Body: ``{"template": "<RFC 5322 message>", "recipients":
[{"to": "...", "from": "...", "vctx": {"k": "v"}}]}`` (momentum-facts.md §5.6);
``vctx`` entries become message-context variables. Reply shapes are built in
inject.py. Never does I/O.
"""
from __future__ import annotations

import re
from typing import Any

from .errors import TransmissionError
from .transmissions import Rendered

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def render_legacy(payload: Any) -> list[Rendered | str]:
    """Per recipient, in order: a Rendered message, or the reason it is refused."""
    if not isinstance(payload, dict):
        raise TransmissionError(422, "invalid data format/type", "1300",
                                "the request body must be a JSON object")
    template = payload.get("template")
    recipients = payload.get("recipients")
    if not isinstance(template, str) or not template.strip():
        raise TransmissionError(422, "required field is missing", "1400",
                                "template is a required field")
    if not isinstance(recipients, list) or not recipients:
        raise TransmissionError(422, "required field is missing", "1400",
                                "recipients is a required field")
    data = re.sub(rb"\r?\n", b"\r\n", template.encode("utf-8"))
    out: list[Rendered | str] = []
    for entry in recipients:
        if not isinstance(entry, dict):
            out.append("550 5.1.3 recipient entry must be an object")
            continue
        to, sender = str(entry.get("to") or ""), str(entry.get("from") or "")
        if not _ADDRESS.match(to):
            out.append(f"550 5.1.3 bad recipient address '{to}'")
            continue
        if sender and not _ADDRESS.match(sender):
            out.append(f"550 5.1.7 bad sender address '{sender}'")
            continue
        vctx = entry.get("vctx") or {}
        context = {str(k): str(v) for k, v in vctx.items()} if isinstance(vctx, dict) else {}
        out.append(Rendered(sender, to, data, context))
    return out
