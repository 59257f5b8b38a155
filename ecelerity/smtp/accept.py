"""From a received body to a durable message and the final reply to DATA (or BDAT LAST).

Called by Session.accept_message with the unstuffed message bytes. Steps, in order:

1. size (``552 5.3.4``), long lines (settings.line_action "reject": ``550 5.6.0``),
   bare LF / bare CR (see below), then long lines repaired when line_action is
   "fix" (smtp/long_lines.py: quoted-printable / folding, content kept);
2. the ``data`` phase (hooks see the message as received);
3. missing headers (rfc2822_missing_headers), Message-ID / Date (rfc2822_* =
   ifneeded), the Received: trace header (rfc2822_trace_headers);
4. the ``data_spool`` phase, then ``data_spool_each_rcpt`` per recipient (a
   rejection there drops that recipient only), then ``set_binding``;
5. header edits the hooks asked for; core/admit.py (``Spool.store`` -- it returns only
   once the message is durable -- then counters, mainlog R lines, queue hand-off) and
   only then ``250 2.0.0 OK <id>`` (sent by the spool's committer right after the
   fdatasync when the session allows it: Session.early_reply, passed as
   ``on_durable``). A spool failure is ``452 4.3.1`` (full) or ``451 4.3.0``.

Bare LF / bare CR (the DataReader keeps them as data: they never end a line or
the message, so nothing can be smuggled). Momentum's values map as follows:
``pedantic`` -> refuse the message (``550 5.6.0``); ``fix`` and ``ignore`` ->
normalise to CRLF (``ignore`` does not refuse, but we never store a bare LF or CR,
so no later hop can misread one as a line end). rfc2822_lone_lf_in_headers applies
to the header block, rfc2822_lone_lf_in_body to the rest.

rfc2822_missing_headers: ``reject`` (default) refuses a message without a From:
header (and without Date: when rfc2822_date_header will not add one) with
``550 5.6.0 Required headers not found (see RFC2822 section 3.6)``; ``fix`` adds
``From: <envelope sender>`` (MAILER-DAEMON@hostname for the null sender);
anything else accepts the message as it is. Never reads configuration itself.

Counters (ecelerity.stats): ``received`` once the store returned, ``rejected`` for a
5xx answer to the message data; a counter failure never costs the message.
"""
from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

from .. import stats
from ..core import spool_latency
from ..core.admit import store_and_admit
from ..core.envelope import Envelope
from ..core.spool_format import SpoolError, SpoolFullError
from ..log.service import log_reception
from ..queue.bindings import reception_refusal
from . import replies
from .long_lines import fix_long_lines, longest_line
from .headers import SplitMessage, apply_edits, header_names, header_values, split_message
from .received import add_identity_headers, protocol_name, received_header
from .replies import Reply

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("ecelerity.smtp")

_BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")
_ANY_EOL = re.compile(rb"\r\n|\r|\n")


class InboundMessage:
    """What data-phase hooks see: envelope, id, and the message split into headers and body."""

    def __init__(self, envelope: Envelope, msgid: str, parts: SplitMessage):
        self.envelope = envelope
        self.id = msgid
        self.trace = b""
        self.header_block = parts.header_block
        self.separator = parts.separator
        self.body = parts.body

    def header(self, name: str) -> list[str]:
        return header_values(self.header_block, name)

    def data(self) -> bytes:
        return self.trace + self.header_block + self.separator + self.body

    @property
    def size(self) -> int:
        return len(self.trace) + len(self.header_block) + len(self.separator) + len(self.body)


def _fix_bare_line_ends(data: bytes, settings: Any) -> bytes | Reply:
    parts = split_message(data)
    header_policy = settings.rfc2822_lone_lf_in_headers
    body_policy = settings.rfc2822_lone_lf_in_body
    header_block = parts.header_block + parts.separator
    if _BARE.search(header_block):
        if header_policy == "pedantic":
            return replies.LONE_LF
        header_block = _ANY_EOL.sub(b"\r\n", header_block)
    body = parts.body
    if _BARE.search(body):
        if body_policy == "pedantic":
            return replies.LONE_LF
        body = _ANY_EOL.sub(b"\r\n", body)
    return header_block + body


def _new_message_id(session: "Session") -> str:
    idgen = getattr(session.spool, "idgen", None)
    if idgen is not None:
        return idgen.next_id()
    service = session.service
    if service is not None and getattr(service, "idgen", None) is not None:
        return service.idgen.next_id()
    from ..core.msgid import IdGenerator
    global _FALLBACK_IDGEN
    if _FALLBACK_IDGEN is None:
        _FALLBACK_IDGEN = IdGenerator()
    return _FALLBACK_IDGEN.next_id()


_FALLBACK_IDGEN = None


def build_envelope(session: "Session") -> Envelope:
    params = session.mail_params
    vctx = session.vctx
    return Envelope(
        mail_from=session.mail_from.address if session.mail_from else "",
        recipients=list(vctx.recipients),
        ret=params.ret, envid=params.envid, body_type=params.body,
        smtputf8=params.smtputf8, declared_size=params.size,
        auth_user=session.authenticated_user, helo=session.helo or "",
        peer_ip=session.peer_ip, peer_port=session.peer_port, local_addr=session.local_addr,
        protocol=_protocol(session).lower(), conn_context=dict(vctx.conn),
        mess_context=dict(vctx.mess), conn_id=session.conn_id, received_at=time.time())


def _protocol(session: "Session") -> str:
    return protocol_name(esmtp=session.esmtp, tls=session.tls_active,
                         auth=session.authenticated_user is not None,
                         smtputf8=session.mail_params.smtputf8)


def _missing_headers(message: InboundMessage, session: "Session") -> Reply | None:
    settings = session.settings
    policy = settings.rfc2822_missing_headers
    names = header_names(message.header_block)
    missing_date = "date" not in names and settings.rfc2822_date_header not in ("ifneeded", "always")
    if "date" not in names:
        session.vctx.mess["rfc2822_date_missing"] = "true"
    if "from" in names and not missing_date:
        return None
    if policy == "reject":
        return replies.MISSING_HEADERS
    if policy == "fix" and "from" not in names:
        sender = session.mail_from.address if session.mail_from else f"MAILER-DAEMON@{settings.hostname}"
        message.header_block = apply_edits(message.header_block, [_Edit("From", f"<{sender}>")])
        if not message.separator and message.body:
            message.separator = b"\r\n"
    return None


class _Edit:
    def __init__(self, name: str, value: str, mode: str = "append"):
        self.name, self.value, self.mode = name, value, mode


def accept_message(session: "Session", body_chunks: list[bytes], *, lone_lf_seen: bool | None = None,
                   oversized: bool = False, long_line: bool | None = None) -> Reply:
    """Everything after the body is in; returns the reply to send (see module doc)."""
    reply = _accept(session, body_chunks, lone_lf_seen=lone_lf_seen, oversized=oversized,
                    long_line=long_line)
    if reply.code >= 500:
        _count_rejected(session)
    return reply


def _count_rejected(session: "Session") -> None:
    """``rejected`` in the App's ecelerity.stats (never fails the session)."""
    app = getattr(getattr(session, "service", None), "app", None)
    if app is None:
        return
    try:
        stats.for_app(app).rejected()
    except Exception as exc:  # noqa: BLE001 - a counter must never cost a message
        _counters_failed(exc)


def _accept(session: "Session", body_chunks: list[bytes], *, lone_lf_seen: bool | None,
            oversized: bool, long_line: bool | None) -> Reply:
    settings = session.settings
    data = body_chunks[0] if len(body_chunks) == 1 else b"".join(body_chunks)
    if oversized or (settings.max_message_size and len(data) > settings.max_message_size):
        return replies.SIZE_EXCEEDED
    limit = settings.line_limit
    if long_line is None:  # BDAT: no DATA reader looked at the lines
        long_line = bool(limit) and longest_line(data) > limit
    if long_line and limit and settings.line_action == "reject":
        return replies.LONG_LINE
    if lone_lf_seen is None or lone_lf_seen:
        fixed = _fix_bare_line_ends(data, settings)
        if isinstance(fixed, Reply):
            return fixed
        data = fixed
    if long_line and limit and settings.line_action == "fix":
        data = fix_long_lines(data, limit)
        session.vctx.mess["rfc2822_long_lines_fixed"] = "true"
    vctx = session.vctx
    message = InboundMessage(build_envelope(session), _new_message_id(session), split_message(data))

    code = session.run_phase("data", message)
    if code is not None and code.code >= 400:
        return code
    refusal = _missing_headers(message, session)
    if refusal is not None:
        return refusal
    block, _added = add_identity_headers(
        message.header_block, msgid=message.id, hostname=settings.received_name,
        messageid_policy=settings.rfc2822_messageid_header,
        date_policy=settings.rfc2822_date_header)
    if block != message.header_block and not message.separator and message.body:
        message.separator = b"\r\n"  # a message without headers now has some: keep the body
    message.header_block = block
    if settings.rfc2822_trace_headers:
        message.trace = received_header(helo=session.helo, peer_ip=session.peer_ip,
                                        hostname=settings.received_name,
                                        protocol=_protocol(session), msgid=message.id,
                                        rdns=session.client_name())

    code = session.run_phase("data_spool", message)
    if code is not None and code.code >= 400:
        return code
    last_refusal: Reply | None = None
    for recipient in list(vctx.recipients):
        rcpt_code = session.run_phase("data_spool_each_rcpt", message, recipient)
        if session.closing:
            return rcpt_code or replies.DISCONNECT_DEFAULT
        if rcpt_code is not None and rcpt_code.code >= 400:
            last_refusal = rcpt_code
            vctx.recipients = [r for r in vctx.recipients if r is not recipient]
    if not vctx.recipients:
        return last_refusal or replies.NO_VALID_RECIPIENTS
    code = session.run_phase("set_binding", message)
    if code is not None and code.code >= 400:
        return code
    # default_binding = none: mail that no policy bound to a real binding is refused (451)
    cfg = session.settings.source_config
    refusal = cfg is not None and reception_refusal(cfg, binding=vctx.binding,
                                                    group=vctx.binding_group)
    if refusal:
        return Reply(*refusal)
    if vctx.discarded:
        # Policy discarded it (Sieve discard, Lua msg:discard): success, nothing spooled.
        log.info("message %s from %s discarded by policy", message.id, session.peer_ip)
        return Reply(250, "2.0.0", f"OK {message.id}")
    if vctx.header_edits:
        message.header_block = apply_edits(message.header_block, vctx.header_edits)

    envelope = message.envelope
    envelope.recipients = list(vctx.recipients)
    envelope.binding = vctx.binding
    envelope.binding_group = vctx.binding_group
    envelope.conn_context = dict(vctx.conn)
    envelope.mess_context = dict(vctx.mess)
    return store(session, message)


def store(session: "Session", message: InboundMessage) -> Reply:
    """Hand the message to core/admit.py; the 250 is built only after it is durable."""
    spool_latency.mark("phases")
    chunks = [part for part in (message.trace, message.header_block, message.separator,
                                message.body) if part]
    # The 250 names the batch id chosen before the body was stored; the session may send
    # it from the spool's committer the moment the record is durable (Session.early_reply).
    accepted = Reply(250, "2.0.0", f"OK {message.id}")
    service = getattr(session, "service", None)
    try:
        # The batch id was chosen before the body was complete: it is already in Received:.
        store_and_admit(session.spool, message.envelope, chunks, batch_id=message.id,
                        app=getattr(service, "app", None),
                        queue=getattr(service, "queue", None),
                        log_reception=lambda batch: log_reception(session, batch),
                        counters_failed=_counters_failed,
                        on_durable=_early_reply(session, accepted))
    except SpoolFullError:
        return replies.SPOOL_FULL
    except SpoolError as exc:
        log.error("spool refused message %s from %s: %s", message.id, session.peer_ip, exc)
        return replies.SPOOL_FAILED
    session.messages_accepted += 1
    conn = session.vctx.conn
    conn["connection_message_count"] = str(session.messages_accepted)
    spool_latency.mark("built")
    return accepted


def _counters_failed(_exc: Exception) -> None:
    log.exception("stats update failed")


def _early_reply(session: "Session", reply: Reply) -> Any:
    early_reply = getattr(session, "early_reply", None)
    return early_reply(reply) if early_reply is not None else None
