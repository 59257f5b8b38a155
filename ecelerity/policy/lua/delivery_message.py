"""``msg`` in the delivery callouts: a read-only LiveMessage over one spooled message.

Made by delivery_callouts.py for each delivery result it hands to Lua
(core_log_delivery_v1 and friends), and returned there by
msys.delivery.ob_get_current_message. The envelope (msg:mailfrom, msg:rcptto, msg:id,
msg:context_get) comes from the spool's SpooledMessage; the headers and body
(msg:header, msg:body, msg:raw, msg:mime...) are read through the spool's public API
(``spool.read_body``) the first time a callout asks for them, in the calling greenlet
(the spool reads in gevent's threadpool). ``msg:code()`` is the delivery result:
(code, "enhanced text") of the last reply.

The message has been delivered, failed or requeued when the callout runs: nothing
can change it any more, so every edit of headers, body or envelope is refused with a
Lua error (msg:context_set changes only this callout's copy of the context). A delivered or failed message is already ended in the spool; its
bytes stay readable while its journal segment lives (the active segment, or until
garbage collection removes an old one): if they are gone, reading them is a Lua
error saying so, never a crash. Never writes the spool.
"""
from __future__ import annotations

from typing import Any

from ...policy.vctx import ValidationContext
from .live_message import LiveMessage

READ_ONLY = "the message is read-only in delivery callouts (it has left the queue)"


class SpooledContent:
    """The InboundMessage surface LiveMessage reads (trace, header_block, separator,
    body, data(), envelope, id), filled from the spool on first use."""

    def __init__(self, spool: Any, message: Any) -> None:
        self.envelope = message.envelope
        self.id = message.id
        self.trace = b""
        self._spool = spool
        self._message = message
        self._parts: Any = None

    def _split(self) -> Any:
        if self._parts is None:
            from ...smtp.headers import split_message
            if self._spool is None:
                raise RuntimeError("no spool to read the message from")
            try:
                data = self._spool.read_body(self._message)
            except Exception as exc:  # noqa: BLE001 - said to the script, not raised raw
                raise RuntimeError(f"message {self.id} is no longer readable in the spool "
                                   f"({type(exc).__name__}: {exc})") from None
            self._parts = split_message(data)
        return self._parts

    @property
    def header_block(self) -> bytes:
        return self._split().header_block

    @property
    def separator(self) -> bytes:
        return self._split().separator

    @property
    def body(self) -> bytes:
        return self._split().body

    def data(self) -> bytes:
        parts = self._split()
        return parts.header_block + parts.separator + parts.body


class DeliveryMessage(LiveMessage):
    """LiveMessage over a spooled message after a delivery attempt (read-only)."""

    def __init__(self, spool: Any, message: Any, code: tuple[int, str] | None) -> None:
        envelope = message.envelope
        vctx = ValidationContext(conn=dict(envelope.conn_context), mess=dict(envelope.mess_context),
                                 binding=message.binding or envelope.binding,
                                 binding_group=envelope.binding_group)
        super().__init__(vctx, SpooledContent(spool, message), message.recipient, phase="delivery")
        self.spooled = message
        self.code = code

    @property
    def message_id(self) -> str:
        return self.spooled.id

    def _editable(self) -> Any:
        raise RuntimeError(READ_ONLY)

    def header_add(self, name: str, value: str, mode: str = "append") -> None:
        raise RuntimeError(READ_ONLY)

    def commit(self) -> bool:
        return False

    def size(self) -> int:
        return int(self.spooled.size)

    def mailfrom(self, new: str | None = None) -> str:
        if new is not None:
            raise RuntimeError(READ_ONLY)
        return self.spooled.envelope.mail_from or ""

    def rcptto(self, new: str | None = None) -> str:
        if new is not None:
            raise RuntimeError(READ_ONLY)
        return self.spooled.recipient.address


def parse_detail(detail: str) -> tuple[int, str] | None:
    """``"451 4.4.1 text"`` (the queue's reason text) -> (451, "4.4.1 text"); None when
    it does not start with a reply code."""
    code, _, rest = (detail or "").strip().partition(" ")
    if len(code) == 3 and code.isdigit():
        return int(code), rest.strip()
    return None
