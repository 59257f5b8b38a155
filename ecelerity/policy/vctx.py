"""The validation context (Momentum's ``vctx``) that every policy hook receives.

One ValidationContext lives as long as an inbound connection (the ``conn`` dict);
its ``mess`` dict, recipients and header edits are cleared for each message by
``reset_message``. Hooks read and change it; the SMTP session (or the HTTP
injector) acts on what they left: the disposition code, a disconnect, a tarpit,
recipient and header edits, the binding. It must never do I/O of its own except
``tarpit``, which sleeps the calling greenlet (the session's) -- it never blocks
the hub.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gevent

from ..smtp.replies import Reply, parse_code_text

VCTX_CONN = "conn"
VCTX_MESS = "mess"


@dataclass
class HeaderEdit:
    """One requested header change, applied by the session before spooling.

    mode: "append" (add after the others), "prepend" (add before the others),
    "replace" (delete every header of that name, then append), "delete".
    """

    name: str
    value: str | None
    mode: str


@dataclass
class ValidationContext:
    """Connection- and message-scoped state that hooks see and change."""

    conn: dict[str, str] = field(default_factory=dict)
    mess: dict[str, str] = field(default_factory=dict)
    can_tarpit: bool = True
    code: Reply | None = None  # the disposition a hook set; None = no opinion
    disconnect_reply: Reply | None = None
    recipients: list[Any] = field(default_factory=list)  # envelope Recipients of this message
    header_edits: list[HeaderEdit] = field(default_factory=list)
    binding: str | None = None
    binding_group: str | None = None
    tarpitted_seconds: float = 0.0
    discarded: bool = False  # accept the message (2xx) but never spool it: Sieve discard, msg:discard
    capability_edits: list[tuple[str, str]] = field(default_factory=list)  # ("add"|"remove", keyword)
    # Scratch space a policy engine keeps between the phases of ONE message (the Lua
    # msg proxy); dropped by reset_message, never read by the session.
    message_state: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- context variables (Momentum: vctx:get / vctx:set) -------------------------------
    def get(self, which: str, key: str, default: str | None = None) -> str | None:
        # the two scopes tested inline: Lua and Sieve call this per rule (no _dict call)
        if which == VCTX_MESS:
            return self.mess.get(key, default)
        if which == VCTX_CONN:
            return self.conn.get(key, default)
        return self._dict(which).get(key, default)

    def set(self, which: str, key: str, value: Any) -> None:
        text = value if value.__class__ is str else ("" if value is None else str(value))
        if which == VCTX_MESS:
            self.mess[key] = text
        elif which == VCTX_CONN:
            self.conn[key] = text
        else:
            self._dict(which)[key] = text

    def _dict(self, which: str) -> dict[str, str]:
        if which == VCTX_CONN:
            return self.conn
        if which == VCTX_MESS:
            return self.mess
        raise ValueError(f"vctx type must be {VCTX_CONN!r} or {VCTX_MESS!r}, not {which!r}")

    # -- dispositions --------------------------------------------------------------------
    def set_code(self, code: int, text: str) -> None:
        """``vctx:set_code(550, "5.7.1 go away")``: the reply for this phase's command."""
        self.code = parse_code_text(int(code), text)

    def disconnect(self, code: int = 421, text: str = "4.7.0 closing connection") -> None:
        """Reply with this code and close the connection after the current phase."""
        self.disconnect_reply = parse_code_text(int(code), text)

    def tarpit(self, seconds: float) -> None:
        """Delay the session (not the hub) before it answers; SMTP listener only."""
        if not self.can_tarpit:
            raise RuntimeError("tarpit is only available on the SMTP listener")
        seconds = max(0.0, float(seconds))
        self.tarpitted_seconds += seconds
        gevent.sleep(seconds)

    # -- recipients (valid from data_spool_each_rcpt on) ---------------------------------
    def recipient_list(self) -> list[Any]:
        return list(self.recipients)

    def add_recipient(self, recipient: Any) -> None:
        self.recipients.append(recipient)

    def remove_recipient(self, address: str) -> bool:
        before = len(self.recipients)
        self.recipients = [r for r in self.recipients if getattr(r, "address", r) != address]
        return len(self.recipients) != before

    # -- headers -------------------------------------------------------------------------
    def header_add(self, name: str, value: str, mode: str = "append") -> None:
        if mode not in ("append", "prepend", "replace"):
            raise ValueError(f"header mode must be append, prepend or replace, not {mode!r}")
        self.header_edits.append(HeaderEdit(name, value, mode))

    def header_delete(self, name: str) -> None:
        self.header_edits.append(HeaderEdit(name, None, "delete"))

    # -- binding (set_binding phase) -----------------------------------------------------
    def discard(self) -> None:
        """The sender sees success; the message is dropped instead of spooled."""
        self.discarded = True

    def set_binding(self, name: str) -> None:
        self.binding = name

    def set_binding_group(self, name: str) -> None:
        self.binding_group = name

    # -- lifecycle -----------------------------------------------------------------------
    def reset_message(self) -> None:
        """Start a new message on the same connection (RSET, end of DATA, new MAIL)."""
        self.mess = {}
        self.recipients = []
        self.header_edits = []
        self.binding = None
        self.binding_group = None
        self.code = None
        self.discarded = False
        if self.message_state:
            self.message_state = {}

    def take_code(self) -> Reply | None:
        """The code a hook set, cleared so the next phase starts clean."""
        code, self.code = self.code, None
        return code
