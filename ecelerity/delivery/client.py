"""The outbound SMTP client: one connection to one remote IP, one transaction at a time.

Called by delivery/engine.py (and delivery/pool.py, which keeps connections). The
connection (banner, EHLO/HELO/LHLO, STARTTLS per ``tls``, QUIT, reading replies) is
delivery/client_connection.py, a base class of SmtpClient; ClientSettings and
Transaction are delivery/client_settings.py; all are re-exported here. This module is
the transaction: MAIL/RCPT/DATA with dot-stuffing, RSET between transactions on a reused
connection, QUIT. When the peer offers PIPELINING (RFC 2920), [RSET] MAIL RCPT... DATA
go in one write and the body in another: two round trips per transaction (a peer that
answers DATA with 354 although it refused every RCPT gets an empty message, ".", so the
connection stays in step). SIZE, 8BITMIME and DSN parameters are sent when the peer
advertises them: BODY=8BITMIME per ``send_8bitmime`` (``no``: only for mail received as
BODY=8BITMIME, as RFC 6152 requires when relaying it; ``ifavailable``: also for any
message with 8-bit bytes; ``yes``: for every message); to a peer without 8BITMIME, 8-bit
content is converted per ``transform_8bitmime_content`` (downconvert.py; ``strict`` may
fail the message with ``554 5.6.3``). Stage codes, Reply and dot-stuffing live in
replies.py. Every wait has its option's timeout; every failure is a SmtpFailure carrying
the reply (or an ``[internal]`` reason) and the Momentum connection stage code
(momentum-facts.md §2.2) it happened in. LMTP (RFC 2033): after the body, one reply per
accepted recipient, in RCPT order (``Transaction.data_replies``).

Never blocks the hub (gevent sockets); never touches the spool, logs or config (the
engine passes a ClientSettings built from the resolver).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ecelerity.core.envelope import Envelope, Recipient

from .client_connection import TLS_HANDSHAKES, ClientConnection  # noqa: F401 - re-exported
from .client_settings import ClientSettings, Transaction
from .downconvert import ConversionFailed, downconvert
from .replies import (  # noqa: F401 - re-exported: the engine, deferral.py and tests use them
    AFTER_DATA, AFTER_EHLO, AFTER_MAIL, AFTER_RCPT, AFTER_STARTTLS, BANNER, BODY, CONFIRMATION,
    DATA, EHLO, IDLE, MAIL, MAX_REPLY_BYTES, MAX_REPLY_LINES, NOT_CONNECTED, RCPT, RSET,
    STARTTLS, TLS_HANDSHAKE, Reply, SmtpFailure, closed_by_remote, dot_stuff, internal,
    parse_reply, timed_out)


@dataclass
class SmtpClient(ClientConnection):
    """One connection (open/quit/close and the wire: client_connection.py) and its
    transactions (``send``, here)."""

    ip: str
    port: int
    settings: ClientSettings
    server_name: str = ""
    conn_id: str = ""
    extensions: dict[str, str] = field(default_factory=dict)
    tls_active: bool = False
    deliveries: int = 0
    transactions: int = 0

    def __post_init__(self) -> None:
        self.sock = None
        self._buffer = b""
        self.opened_at = 0.0

    # -- one transaction ---------------------------------------------------------------

    def send(self, envelope: Envelope, recipients: list[Recipient], body: bytes) -> Transaction:
        """MAIL, RCPT for each recipient, DATA and the body; raises SmtpFailure when the
        whole transaction fails (MAIL refused, connection lost); per-recipient refusals
        and the final reply are in the returned Transaction."""
        if "PIPELINING" in self.extensions:
            return self._send_pipelined(envelope, recipients, body)
        if self.transactions:
            reply, _ = self._command("RSET", self.settings.rset_timeout, RSET)
            if reply.code != 250:
                raise SmtpFailure(reply, RSET)
        self.transactions += 1
        body = self._checked_body(body)
        mail = f"MAIL FROM:<{envelope.mail_from}>" + self._mail_params(envelope, body)
        rcpts = [f"RCPT TO:<{r.address}>" + self._rcpt_params(r) for r in recipients]
        mail_reply, _ = self._command(mail, self.settings.mailfrom_timeout, MAIL)
        rcpt_replies = []
        if mail_reply.ok:
            rcpt_replies = [self._command(line, self.settings.rcptto_timeout, RCPT)[0]
                            for line in rcpts]
        if not mail_reply.ok:
            raise SmtpFailure(mail_reply, MAIL)
        if not any(reply.ok for reply in rcpt_replies):
            return Transaction(rcpt_replies, None, RCPT)
        reply, _ = self._command("DATA", self.settings.mailfrom_timeout, DATA)
        if reply.code != 354:
            return Transaction(rcpt_replies, reply, DATA)
        return self._send_body(rcpt_replies, body)

    def _send_pipelined(self, envelope: Envelope, recipients: list[Recipient],
                        body: bytes) -> Transaction:
        """RFC 2920: [RSET] MAIL RCPT... DATA in one write, their replies read in order,
        then the body in one write: two round trips per transaction."""
        reused = bool(self.transactions)
        self.transactions += 1
        body = self._checked_body(body)
        lines = ["RSET"] if reused else []
        lines.append(f"MAIL FROM:<{envelope.mail_from}>" + self._mail_params(envelope, body))
        lines.extend(f"RCPT TO:<{r.address}>" + self._rcpt_params(r) for r in recipients)
        lines.append("DATA")
        self._write("".join(f"{line}\r\n" for line in lines).encode(), RSET if reused else MAIL)
        if reused:
            reply = self._read_reply(self.settings.rset_timeout, RSET)
            if reply.code != 250:
                raise SmtpFailure(reply, RSET)   # the caller closes the connection
        mail_reply = self._read_reply(self.settings.mailfrom_timeout, MAIL)
        if not mail_reply.ok:
            raise SmtpFailure(mail_reply, MAIL)
        rcpt_replies = []
        for _ in recipients:
            rcpt_reply = self._read_reply(self.settings.rcptto_timeout, RCPT)
            if rcpt_reply.code == 421:  # the peer is closing: its reply, not "connection closed"
                raise SmtpFailure(rcpt_reply, RCPT)
            rcpt_replies.append(rcpt_reply)
        reply = self._read_reply(self.settings.mailfrom_timeout, DATA)
        if not any(r.ok for r in rcpt_replies):
            if reply.code == 354:   # a peer that takes DATA with no recipient: end it empty
                self._write(b".\r\n", BODY)
                self._read_reply(self.settings.body_timeout, CONFIRMATION)
            return Transaction(rcpt_replies, None, RCPT)
        if reply.code != 354:
            return Transaction(rcpt_replies, reply, DATA)
        return self._send_body(rcpt_replies, body)

    def _checked_body(self, body: bytes) -> bytes:
        """The body for this peer, or SmtpFailure when it is over the peer's SIZE."""
        body = self._body_for_peer(body)
        size_limit = self.extensions.get("SIZE", "")
        if size_limit.isdigit() and int(size_limit) and len(body) > int(size_limit):
            raise SmtpFailure(Reply(552, "5.3.4", f"message size {len(body)} exceeds the limit "
                                    f"{size_limit} of {self.ip}"), AFTER_EHLO)
        return body

    def _send_body(self, rcpt_replies: list[Reply], body: bytes) -> Transaction:
        stuffed = dot_stuff(body)
        self._write(stuffed, BODY, timeout=self.settings.body_timeout)
        if self.settings.lmtp:
            return self._lmtp_replies(rcpt_replies, len(stuffed))
        reply = self._read_reply(self.settings.body_timeout, CONFIRMATION)
        if reply.ok:
            self.deliveries += sum(1 for r in rcpt_replies if r.ok)
        return Transaction(rcpt_replies, reply, CONFIRMATION, len(stuffed))

    def _lmtp_replies(self, rcpt_replies: list[Reply], sent: int) -> Transaction:
        """RFC 2033 §4.2: one reply per accepted RCPT, in order. A connection lost part
        way leaves the rest with that (transient) failure; earlier replies stand."""
        data_replies: list[Reply | None] = []
        lost: Reply | None = None
        for rcpt_reply in rcpt_replies:
            if not rcpt_reply.ok:
                data_replies.append(None)
                continue
            if lost is None:
                try:
                    reply = self._read_reply(self.settings.body_timeout, CONFIRMATION)
                except SmtpFailure as failure:
                    lost = failure.reply
                    self.close()
            data_replies.append(lost or reply)
        self.deliveries += sum(1 for r in data_replies if r is not None and r.ok)
        final = next((r for r in data_replies if r is not None), None)
        return Transaction(rcpt_replies, final, CONFIRMATION, sent, data_replies)

    def _body_for_peer(self, body: bytes) -> bytes:
        """The body as this peer may receive it (downconvert.py when it lacks 8BITMIME)."""
        mode = self.settings.transform_8bitmime_content
        if mode == "no" or "8BITMIME" in self.extensions or body.isascii():
            return body
        try:
            return downconvert(body, mode)
        except ConversionFailed as exc:
            raise SmtpFailure(internal(554, "5.6.3", f"{exc}; {self.ip} does not accept 8BITMIME"),
                              AFTER_EHLO) from exc

    def _mail_params(self, envelope: Envelope, body: bytes) -> str:
        params = ""
        if "SIZE" in self.extensions:
            params += f" SIZE={len(body)}"
        send = self.settings.send_8bitmime
        declared = (envelope.body_type or "").upper() == "8BITMIME"
        if "8BITMIME" in self.extensions and (
                declared or send == "yes" or (send == "ifavailable" and not body.isascii())):
            params += " BODY=8BITMIME"
        if "DSN" in self.extensions:
            if envelope.ret:
                params += f" RET={envelope.ret}"
            if envelope.envid:
                params += f" ENVID={envelope.envid}"
        return params

    def _rcpt_params(self, recipient: Recipient) -> str:
        if "DSN" not in self.extensions:
            return ""
        params = f" NOTIFY={recipient.notify}" if recipient.notify else ""
        return params + (f" ORCPT={recipient.orcpt}" if recipient.orcpt else "")
