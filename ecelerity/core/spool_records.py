"""What the spool's records say: SpooledMessage, StoredBatch, and the B/D/U record schemas.

A batch record (kind B) carries the envelope once and one small entry per
recipient-message (Momentum's model: one message per recipient, sharing one body); its
data is the raw message (headers + body). A done record (D) ends one message; an update
record (U) changes its retry state. Later records win on replay: a B record for an ID
already seen replaces it (compaction relocates live messages that way).

Used by spool.py (build) and spool_in.py / show.py (parse). No I/O here; parse errors
are ValueError with the field named, so spool-in can quarantine the record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .envelope import Envelope, Recipient
from .msgid import is_valid

RECORD_VERSION = 1


@dataclass(eq=False)
class SpooledMessage:
    """One recipient's message in the spool; fields after ``size`` belong to the spool."""

    id: str
    batch_id: str
    recipient: Recipient
    domain: str
    envelope: Envelope
    retries: int = 0
    next_attempt: float = 0.0
    created: float = 0.0
    last_error: str | None = None
    binding: str | None = None
    size: int = 0
    segment: int = field(default=-1, repr=False)
    data_offset: int = field(default=0, repr=False)
    removed: bool = field(default=False, repr=False)


@dataclass
class StoredBatch:
    """What ``Spool.store`` returns once the batch is durable."""

    batch_id: str
    messages: list[SpooledMessage]
    size: int


def batch_meta(batch_id: str, envelope: Envelope, messages: list[SpooledMessage], *,
               relocated: bool = False) -> dict[str, Any]:
    """The JSON meta of a B record for ``messages`` (all of one batch, current state)."""
    recipient_index = {id(recipient): index for index, recipient in enumerate(envelope.recipients)}
    return {
        "v": RECORD_VERSION,
        "batch_id": batch_id,
        "relocated": relocated,
        "envelope": envelope.to_dict(),
        "messages": [
            {
                "id": message.id,
                "rcpt": recipient_index[id(message.recipient)],
                "domain": message.domain,
                "retries": message.retries,
                "next_attempt": message.next_attempt,
                "created": message.created,
                "last_error": message.last_error,
                "binding": message.binding,
            }
            for message in messages
        ],
    }


def parse_batch(meta: dict[str, Any], segment: int, data_offset: int,
                data_len: int) -> list[SpooledMessage]:
    """The messages of a B record; ValueError naming the first bad field."""
    if meta.get("v") != RECORD_VERSION:
        raise ValueError(f"batch record: unsupported version {meta.get('v')!r}")
    batch_id = meta.get("batch_id")
    if not isinstance(batch_id, str) or not is_valid(batch_id):
        raise ValueError(f"batch record: bad batch_id {batch_id!r}")
    envelope = Envelope.from_dict(meta.get("envelope"))
    entries = meta.get("messages")
    if not isinstance(entries, list) or not entries:
        raise ValueError("batch record: no messages")
    messages = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("batch record: message entry is not an object")
        message_id = entry.get("id")
        if not isinstance(message_id, str) or not is_valid(message_id):
            raise ValueError(f"batch record: bad message id {message_id!r}")
        rcpt = entry.get("rcpt")
        if not isinstance(rcpt, int) or not 0 <= rcpt < len(envelope.recipients):
            raise ValueError(f"message {message_id}: bad recipient index {rcpt!r}")
        messages.append(SpooledMessage(
            id=message_id, batch_id=batch_id, recipient=envelope.recipients[rcpt],
            domain=_field(entry, "domain", str, message_id), envelope=envelope,
            retries=_field(entry, "retries", int, message_id),
            next_attempt=float(_field(entry, "next_attempt", (int, float), message_id)),
            created=float(_field(entry, "created", (int, float), message_id)),
            last_error=_field(entry, "last_error", (str, type(None)), message_id),
            binding=_field(entry, "binding", (str, type(None)), message_id),
            size=data_len, segment=segment, data_offset=data_offset,
        ))
    return messages


def update_meta(message: SpooledMessage) -> dict[str, Any]:
    """The JSON meta of a U record carrying the message's current retry state."""
    return {"id": message.id, "retries": message.retries, "next_attempt": message.next_attempt,
            "last_error": message.last_error, "binding": message.binding}


def apply_update(message: SpooledMessage, meta: dict[str, Any]) -> None:
    """Apply a U record to a loaded message; ValueError when a field has the wrong type."""
    message.retries = _field(meta, "retries", int, message.id)
    message.next_attempt = float(_field(meta, "next_attempt", (int, float), message.id))
    message.last_error = _field(meta, "last_error", (str, type(None)), message.id)
    message.binding = _field(meta, "binding", (str, type(None)), message.id)


def _field(entry: dict[str, Any], key: str, kinds: Any, message_id: str) -> Any:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ValueError(f"message {message_id}: bad {key} {value!r}")
    return value
