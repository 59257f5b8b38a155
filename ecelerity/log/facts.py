"""The facts of one log event, as a flat dict with stable names, built once per event.

Callers (log/ec_logger.py, bounce_logger.py, jsonlog.py, custom_logger.py) build a facts
dict here from the spool's SpooledMessage (core/spool_records.py) and the delivery
engine's result (any object with ``message_id outcome code enhanced text stage remote_ip
bytes_sent conn_id``; ``classification`` is read when present), then hand the same dict
to every log. records.py picks Momentum's fields from it; the JSON log writes all of it.

Names (docs/logs.md lists them for operators): ts (float epoch seconds), event
(reception delivery xfer transient_failure permanent_failure bounce rejection auth authz),
type (Momentum's letter: R D X T P B; N T Z in the acctlog; none for a rejection), message_id, batch_id, conn_id, rcpt, rcpt_local, rcpt_domain,
sender, from_local, from_domain, domain (routing domain), source_ip, protocol, size,
binding, binding_group, auth_user, retries, elapsed, remote_ip, stage, code, enhanced,
text, response, bytes_sent, classification, ctx_conn, ctx_mess; receptions add helo and
nrcpt (the recipients of the batch).

Never does I/O and never raises on a missing attribute (absent values become '' / 0).
"""
from __future__ import annotations

from typing import Any, Callable

DEFAULT_NAME = "default"
# Momentum's record letter -> the event name (the JSON log's "event" field)
EVENT_OF_TYPE = {"R": "reception", "D": "delivery", "X": "xfer", "T": "transient_failure",
                 "P": "permanent_failure", "B": "bounce"}


def split_address(address: str | None) -> tuple[str, str]:
    """``local@domain`` -> (local, domain); the null sender and bare names give ('x', '')."""
    if not address:
        return "", ""
    local, at, domain = address.rpartition("@")
    if not at:
        return address, ""
    return local, domain


def response_text(code: Any, enhanced: Any, text: Any) -> str:
    """``550 5.1.1 user unknown``; parts that are empty are left out."""
    parts = [str(part) for part in (code, enhanced, text) if part not in (None, "", 0)]
    return " ".join(parts)


def _group_of(binding: str, binding_group_of: Callable[[str], Any] | None,
              recorded: str | None) -> str:
    """The configuration's answer when there is one, else what the envelope recorded."""
    if binding_group_of is None:
        return recorded or DEFAULT_NAME
    try:
        return binding_group_of(binding) or DEFAULT_NAME
    except Exception:  # noqa: BLE001 - an unknown binding must not stop a log line
        return DEFAULT_NAME


def message_facts(msg: Any, kind: str, *, now: float,
                  binding_group_of: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """The facts every per-recipient record shares (R, D, T, P, B)."""
    envelope = msg.envelope
    rcpt = msg.recipient.address
    rcpt_local, rcpt_domain = split_address(rcpt)
    from_local, from_domain = split_address(envelope.mail_from)
    binding = msg.binding or envelope.binding or DEFAULT_NAME
    received = msg.created or envelope.received_at or now
    return {
        "ts": now,
        "event": EVENT_OF_TYPE[kind],
        "type": kind,
        "message_id": msg.id,
        "batch_id": msg.batch_id,
        "conn_id": envelope.conn_id,
        "rcpt": rcpt,
        "rcpt_local": rcpt_local,
        "rcpt_domain": rcpt_domain,
        "sender": envelope.mail_from,
        "from_local": from_local,
        "from_domain": from_domain,
        "domain": msg.domain or rcpt_domain.lower(),
        "source_ip": envelope.peer_ip or "unknown",
        "protocol": envelope.protocol or "esmtp",
        "size": msg.size,
        "binding": binding,
        "binding_group": _group_of(binding, binding_group_of, envelope.binding_group),
        "auth_user": envelope.auth_user or "",
        "retries": msg.retries,
        "elapsed": max(0.0, now - received),
        "ctx_conn": dict(envelope.conn_context),
        "ctx_mess": dict(envelope.mess_context),
    }


def reception_facts(msg: Any, conn_id: str | None = None, *, now: float,
                    binding_group_of: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """An R record: the message as the spool accepted it (conn_id = the inbound session)."""
    facts = message_facts(msg, "R", now=now, binding_group_of=binding_group_of)
    if conn_id:
        facts["conn_id"] = conn_id
    facts["helo"] = msg.envelope.helo or ""
    facts["nrcpt"] = len(msg.envelope.recipients or ())
    return facts


def attempt_facts(msg: Any, result: Any, kind: str, *, now: float,
                  binding_group_of: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """A D, T, P (mainlog) or B (bouncelog) record: one delivery attempt's outcome."""
    facts = message_facts(msg, kind, now=now, binding_group_of=binding_group_of)
    code = getattr(result, "code", None)
    enhanced = getattr(result, "enhanced", None) or ""
    text = getattr(result, "text", None) or ""
    facts.update({
        "conn_id": getattr(result, "conn_id", None) or "",
        "remote_ip": getattr(result, "remote_ip", None) or "",
        "stage": _int_or(getattr(result, "stage", None), 0),
        "code": code,
        "enhanced": enhanced,
        "text": text,
        "response": response_text(code, enhanced, text),
        "bytes_sent": _int_or(getattr(result, "bytes_sent", None), 0),
        "outcome": getattr(result, "outcome", None) or "",
    })
    classification = getattr(result, "classification", None)
    if classification is not None:
        facts["classification"] = classification
    return facts


def rejection_facts(*, now: float, peer: str, local: str, conn_id: str, phase: str,
                    code: Any, module: str, ctx_conn: dict | None, ctx_mess: dict | None,
                    text: str, pathway: str = DEFAULT_NAME,
                    pathway_group: str = DEFAULT_NAME, enhanced: str = "") -> dict[str, Any]:
    """A rejection (rejectlog line): who was refused, where, by which module, why."""
    return {"ts": now, "event": "rejection", "peer": peer, "local": local, "conn_id": conn_id,
            "pathway": pathway, "pathway_group": pathway_group, "phase": phase, "code": code,
            "enhanced": enhanced or "", "module": module, "ctx_conn": dict(ctx_conn or {}),
            "ctx_mess": dict(ctx_mess or {}), "text": text}


def acct_facts(*, now: float, kind: str, endpoint: str, peer: str, user: str, result: int,
               command: str | None = None, role: str | None = None) -> dict[str, Any]:
    """An acctlog record: N (authentication), T (authentication timeout), Z (authorization)."""
    facts = {"ts": now, "event": "authz" if kind == "Z" else "auth", "type": kind,
             "endpoint": endpoint, "peer": peer, "user": user,
             "result": result}
    if kind == "Z":
        facts.update(command=command or "", role=role or "")
    return facts


IMPORTED, SOURCE_META_UNREADABLE, SOURCE_BODY_UNREADABLE, STORE_FAILED = 1, 2, 3, 4


def import_facts(*, now: float, old_id: str, new_id: str | None, result: int,
                 source: str) -> dict[str, Any]:
    """An importlog record: message ``old_id`` of spool ``source`` became ``new_id``
    (the original ID when it got none) with ``result`` (1 imported .. 4, see records.py)."""
    return {"ts": now, "event": "import", "type": "I", "message_id": old_id,
            "new_message_id": new_id or old_id, "result": result, "source": source}


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
