"""The SMTP envelope of one accepted message: sender, recipients, DSN parameters, context.

Built by the SMTP session (smtp/) when DATA/BDAT LAST completes, handed to the spool,
read back by the queue, delivery and bounce code. ``to_dict``/``from_dict`` are the
spool's serialisation: ``from_dict`` checks every field's type and raises ValueError
naming the field, so a damaged spool record is quarantined instead of misread. Unknown
keys are ignored (a newer writer may add fields). Holds data only: never I/O here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Recipient:
    """One RCPT TO: the address and its RFC 3461 NOTIFY/ORCPT parameters as received."""

    address: str
    notify: str | None = None
    orcpt: str | None = None

    @property
    def domain(self) -> str:
        """The lower-cased domain after the last ``@`` ('' when there is none)."""
        _, at, domain = self.address.rpartition("@")
        return domain.lower() if at else ""

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "notify": self.notify, "orcpt": self.orcpt}

    @classmethod
    def from_dict(cls, data: Any) -> Recipient:
        if not isinstance(data, dict):
            raise ValueError(f"recipient: expected an object, got {type(data).__name__}")
        return cls(
            address=_typed(data, "address", str, "recipient.address", required=True),
            notify=_typed(data, "notify", (str, type(None)), "recipient.notify"),
            orcpt=_typed(data, "orcpt", (str, type(None)), "recipient.orcpt"),
        )


@dataclass
class Envelope:
    """Everything about a message except its bytes; see the module docstring."""

    mail_from: str
    recipients: list[Recipient]
    ret: str | None = None
    envid: str | None = None
    body_type: str | None = None
    smtputf8: bool = False
    declared_size: int | None = None
    auth_user: str | None = None
    helo: str = ""
    peer_ip: str = ""
    peer_port: int = 0
    local_addr: str = ""
    protocol: str = "esmtp"
    conn_context: dict[str, str] = field(default_factory=dict)
    mess_context: dict[str, str] = field(default_factory=dict)
    binding: str | None = None
    binding_group: str | None = None
    conn_id: str = ""
    received_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (recipients as dicts, contexts copied)."""
        result: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "recipients":
                value = [recipient.to_dict() for recipient in value]
            elif isinstance(value, dict):
                value = dict(value)
            result[spec.name] = value
        return result

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        """Rebuild from ``to_dict`` output; ValueError naming the first bad field."""
        if not isinstance(data, dict):
            raise ValueError(f"envelope: expected an object, got {type(data).__name__}")
        raw_recipients = data.get("recipients")
        if not isinstance(raw_recipients, list):
            raise ValueError("envelope.recipients: expected a list")
        kwargs: dict[str, Any] = {
            "mail_from": _typed(data, "mail_from", str, "envelope.mail_from", required=True),
            "recipients": [Recipient.from_dict(item) for item in raw_recipients],
        }
        for name, kinds in _OPTIONAL_FIELDS.items():
            if name in data:
                kwargs[name] = _typed(data, name, kinds, f"envelope.{name}")
        for name in ("conn_context", "mess_context"):
            if name in data:
                kwargs[name] = _string_dict(data[name], f"envelope.{name}")
        return cls(**kwargs)


_NONE = type(None)
_OPTIONAL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "ret": (str, _NONE),
    "envid": (str, _NONE),
    "body_type": (str, _NONE),
    "smtputf8": bool,
    "declared_size": (int, _NONE),
    "auth_user": (str, _NONE),
    "helo": str,
    "peer_ip": str,
    "peer_port": int,
    "local_addr": str,
    "protocol": str,
    "binding": (str, _NONE),
    "binding_group": (str, _NONE),
    "conn_id": str,
    "received_at": (float, int),
}


def _typed(data: dict, key: str, kinds: type | tuple[type, ...], label: str, *,
           required: bool = False) -> Any:
    if key not in data:
        if required:
            raise ValueError(f"{label}: missing")
        return None
    value = data[key]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ValueError(f"{label}: expected {_kind_names(kinds)}, got bool")
    if not isinstance(value, kinds):
        raise ValueError(f"{label}: expected {_kind_names(kinds)}, got {type(value).__name__}")
    if key == "received_at":
        return float(value)
    return value


def _kind_names(kinds: type | tuple[type, ...]) -> str:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join("null" if kind is _NONE else kind.__name__ for kind in kinds)


def _string_dict(value: Any, label: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"{label}: expected an object")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ValueError(f"{label}: keys and values must be strings ({key!r})")
    return dict(value)
