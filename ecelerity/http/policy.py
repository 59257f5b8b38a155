"""The validation phases a REST-injected message meets before it is spooled.

inject.py calls ``run_phases(app, request, rendered, msgid, trace, header_block)`` for each
generated message (one recipient). Momentum runs, for HTTP injection, the message
generation data-spool hook, then set_binding, then final validation (momentum-facts.md
§5.2); there is no SMTP dialogue, so connect / ehlo / mailfrom / rcptto / rcptto_list /
data never run (the API key is the authorization, as relaying is for SMTP). Here, through
the daemon's HookRegistry (``app.hooks``, the one the SMTP accept path uses, so Sieve++,
Lua and module hooks such as opendkim signing apply unchanged):

    data_spool -> data_spool_each_rcpt (each recipient) -> set_binding
    -> default_binding = none check -> policy header edits

the same order and rules as smtp/accept.py steps 4-5. Hooks get an smtp.accept
InboundMessage and a ValidationContext whose ``conn`` has peer_ip / peer_port /
local_addr / listener = http_listener and whose ``mess`` holds the transmission context
(transmission_id, campaign_id, metadata, tags, legacy vctx). A 4xx/5xx code, a
disconnect or a failing hook refuses the message (its reply becomes the recipient's
rejection reason); a discard accepts it without spooling. tarpit is not available (the
HTTP request must not be held). Never spools, never does I/O itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.envelope import Envelope, Recipient
from ..policy.vctx import ValidationContext
from ..queue.bindings import reception_refusal
from ..smtp import replies
from ..smtp.accept import InboundMessage
from ..smtp.headers import apply_edits, split_message
from ..smtp.replies import Reply


@dataclass
class Outcome:
    """What policy decided for one generated message."""

    message: InboundMessage  # envelope updated (recipients, binding, contexts); headers edited
    refused: Reply | None = None  # why the message is not spooled (a rejection)
    discarded: bool = False  # accepted, but not spooled

    @property
    def chunks(self) -> list[bytes]:
        m = self.message
        return [part for part in (m.trace, m.header_block, m.separator, m.body) if part]


def run_phases(app: Any, envelope: Envelope, msgid: str, trace: bytes, data: bytes) -> Outcome:
    """Run the injection phases on one message (``data`` = headers + body, CRLF)."""
    message = InboundMessage(envelope, msgid, split_message(data))
    message.trace = trace
    vctx = ValidationContext(can_tarpit=False)
    vctx.conn.update({"peer_ip": envelope.peer_ip, "peer_port": str(envelope.peer_port or 0),
                      "local_addr": envelope.local_addr or "", "listener": "http_listener",
                      "can_relay": "true"})
    vctx.mess.update(envelope.mess_context)
    vctx.recipients = list(envelope.recipients)
    hooks = getattr(app, "hooks", None)
    refusal = _phases(hooks, vctx, message) if hooks is not None else None
    if refusal is None:
        binding_refusal = reception_refusal(app.config, binding=vctx.binding,
                                            group=vctx.binding_group)
        refusal = Reply(*binding_refusal) if binding_refusal else None
    outcome = Outcome(message, refused=refusal)
    if refusal is not None:
        return outcome
    if vctx.discarded:
        outcome.discarded = True
        return outcome
    if vctx.header_edits:
        message.header_block = apply_edits(message.header_block, vctx.header_edits)
    envelope.recipients = list(vctx.recipients)
    envelope.binding = vctx.binding
    envelope.binding_group = vctx.binding_group
    envelope.conn_context = dict(vctx.conn)
    envelope.mess_context = dict(vctx.mess)
    return outcome


def _phases(hooks: Any, vctx: ValidationContext, message: InboundMessage) -> Reply | None:
    """The refusal of the first phase that refused, or None."""
    code = _run(hooks, "data_spool", vctx, message)
    if code is not None:
        return code
    last: Reply | None = None
    for recipient in list(vctx.recipients):
        code = _run(hooks, "data_spool_each_rcpt", vctx, message, recipient)
        if code is not None:
            last = code
            vctx.recipients = [r for r in vctx.recipients if r is not recipient]
    if not vctx.recipients:
        return last or replies.NO_VALID_RECIPIENTS
    return _run(hooks, "set_binding", vctx, message)


def _run(hooks: Any, phase: str, vctx: ValidationContext, *args: Any) -> Reply | None:
    if not hooks.has_hooks(phase):
        return None
    result = hooks.run(phase, vctx, *args)
    if result.disconnect is not None:  # nothing to disconnect: the message is refused
        vctx.disconnect_reply = None
        return result.reply or result.disconnect
    if result.reply is not None and result.reply.code >= 400:
        return result.reply
    return None


def new_envelope(mail_from: str, recipient: str, *, peer_ip: str, peer_port: int, listen: str,
                 context: dict[str, str], msgid: str, now: float) -> Envelope:
    """The envelope of one REST-generated message (protocol ``rest``, as Momentum logs it)."""
    return Envelope(mail_from=mail_from, recipients=[Recipient(recipient)], peer_ip=peer_ip,
                    peer_port=peer_port, local_addr=listen, protocol="rest",
                    conn_context={"listener": "http_listener"}, mess_context=dict(context),
                    conn_id=msgid, received_at=now)
