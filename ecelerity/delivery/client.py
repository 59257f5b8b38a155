"""The outbound SMTP client: one connection to one remote IP, one transaction at a time.

Called by delivery/engine.py only. Speaks banner, EHLO (HELO when EHLO is refused;
LHLO and no fallback with ``lmtp``),
STARTTLS per ``tls`` (no / ifavailable / required, with ``tls_verify``/``tls_ca``),
MAIL/RCPT/DATA with dot-stuffing, RSET between transactions on a reused connection,
QUIT. When the peer offers PIPELINING (RFC 2920), [RSET] MAIL RCPT... DATA go in one
write and the body in another: two round trips per transaction (a peer that answers
DATA with 354 although it refused every RCPT gets an empty message, ".", so the
connection stays in step). SIZE, 8BITMIME and DSN parameters
are sent when the peer advertises them: BODY=8BITMIME per ``send_8bitmime`` (``no``:
only for mail received as BODY=8BITMIME, as RFC 6152 requires when relaying it;
``ifavailable``: also for any message with 8-bit bytes; ``yes``: for every message);
to a peer without 8BITMIME, 8-bit content is converted per
``transform_8bitmime_content`` (downconvert.py; ``strict`` may fail the message with
``554 5.6.3``). Stage codes, Reply and dot-stuffing live in replies.py. Every wait has its option's timeout; every
failure is a SmtpFailure carrying the reply (or an ``[internal]`` reason) and the
Momentum connection stage code (momentum-facts.md §2.2) it happened in. LMTP (RFC
2033): after the body, one reply per accepted recipient, in RCPT order
(``Transaction.data_replies``).

Never blocks the hub (gevent sockets); never touches the spool, logs or config (the
engine passes a ClientSettings built from the resolver).
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from gevent import socket as gsocket
from gevent import ssl as gssl

from ecelerity.core.envelope import Envelope, Recipient

from .downconvert import ConversionFailed, downconvert
from .replies import (  # noqa: F401 - re-exported: the engine, deferral.py and tests use them
    AFTER_DATA, AFTER_EHLO, AFTER_MAIL, AFTER_RCPT, AFTER_STARTTLS, BANNER, BODY, CONFIRMATION,
    DATA, EHLO, IDLE, MAIL, MAX_REPLY_BYTES, MAX_REPLY_LINES, NOT_CONNECTED, RCPT, RSET,
    STARTTLS, TLS_HANDSHAKE, Reply, SmtpFailure, closed_by_remote, dot_stuff, internal,
    parse_reply, timed_out)

# STARTTLS handshakes of this process ("ok" / "failed"): the console's ``tls`` reads them
TLS_HANDSHAKES: Counter[str] = Counter()


@dataclass
class ClientSettings:
    """What the engine resolved for one (binding, domain); times in seconds."""

    ehlo_hostname: str = "localhost"
    bind_address: str | None = None
    tls: str = "no"
    tls_verify: str = "no"
    tls_ca: str | None = None
    tls_ifavailable_fallback: bool = True
    send_8bitmime: str = "no"
    transform_8bitmime_content: str = "ifneeded"
    connect_timeout: float = 300
    ehlo_timeout: float = 300
    mailfrom_timeout: float = 300
    rcptto_timeout: float = 300
    body_timeout: float = 600
    rset_timeout: float = 30
    lmtp: bool = False


@dataclass
class Transaction:
    """Per-recipient replies (same order as given), the final reply, bytes of body sent."""

    rcpt_replies: list[Reply]
    data_reply: Reply | None
    data_stage: int
    bytes_sent: int = 0
    data_replies: list[Reply | None] | None = None   # LMTP: per recipient (None: refused at RCPT)

    def final_reply(self, index: int) -> Reply | None:
        """The reply after the body for the ``index``-th recipient (LMTP: its own)."""
        if self.data_replies is not None and self.data_replies[index] is not None:
            return self.data_replies[index]
        return self.data_reply


@dataclass
class SmtpClient:
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

    # -- connection ------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, read the banner, EHLO/HELO, STARTTLS as configured; SmtpFailure if not."""
        try:
            self._open(use_tls=self.settings.tls != "no")
        except SmtpFailure as failure:
            if not (failure.stage in (TLS_HANDSHAKE, STARTTLS) and self.settings.tls == "ifavailable"
                    and self.settings.tls_ifavailable_fallback):
                raise
            self.close()
            self._open(use_tls=False)

    def _open(self, *, use_tls: bool) -> None:
        settings = self.settings
        source = (settings.bind_address, 0) if settings.bind_address else None
        self.opened_at = time.monotonic()
        try:
            self.sock = gsocket.create_connection((self.ip, self.port), settings.connect_timeout,
                                                  source_address=source)
        except TimeoutError as exc:
            raise SmtpFailure(timed_out(), NOT_CONNECTED) from exc
        except OSError as exc:
            reply = internal(421, "4.4.0", f"connect to {self.ip}:{self.port} failed: "
                             f"{exc.strerror or exc}")
            raise SmtpFailure(reply, NOT_CONNECTED) from exc
        banner = self._read_reply(settings.ehlo_timeout, BANNER, missing=internal(451, "4.4.2", "no banner"))
        if banner.code != 220:
            raise SmtpFailure(banner, BANNER)
        self._hello()
        if use_tls:
            self._starttls()

    def _hello(self) -> None:
        timeout = self.settings.ehlo_timeout
        verb = "LHLO" if self.settings.lmtp else "EHLO"
        reply, lines = self._command(f"{verb} {self.settings.ehlo_hostname}", timeout, EHLO,
                                     keep_lines=True)
        if reply.code == 250:
            self.extensions = {}
            for line in lines[1:]:
                keyword, _, argument = line.partition(" ")
                self.extensions[keyword.upper()] = argument
            return
        if reply.code < 500 or self.settings.lmtp:
            raise SmtpFailure(reply, EHLO)
        reply, _ = self._command(f"HELO {self.settings.ehlo_hostname}", timeout, EHLO)
        if reply.code != 250:
            raise SmtpFailure(reply, EHLO)
        self.extensions = {}

    def _starttls(self) -> None:
        if "STARTTLS" not in self.extensions:
            if self.settings.tls == "required":
                raise SmtpFailure(internal(451, "4.7.5", "TLS required but not offered by "
                                           f"{self.ip}"), AFTER_EHLO)
            return
        reply, _ = self._command("STARTTLS", self.settings.ehlo_timeout, STARTTLS)
        if reply.code != 220:
            raise SmtpFailure(reply, STARTTLS)
        try:
            self.sock = self._tls_context().wrap_socket(
                self.sock, server_hostname=self.server_name or None)
        except (OSError, ValueError) as exc:
            TLS_HANDSHAKES["failed"] += 1
            raise SmtpFailure(internal(451, "4.7.5", f"TLS handshake with {self.ip} failed: {exc}"),
                              TLS_HANDSHAKE) from exc
        TLS_HANDSHAKES["ok"] += 1
        self.tls_active = True
        self._buffer = b""
        self._hello()

    def _tls_context(self) -> gssl.SSLContext:
        verify = self.settings.tls_verify
        context = gssl.SSLContext(gssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = verify == "host" and bool(self.server_name)
        if verify == "no":
            context.verify_mode = gssl.CERT_NONE
        else:
            context.verify_mode = gssl.CERT_OPTIONAL if verify == "optional" else gssl.CERT_REQUIRED
            if self.settings.tls_ca:
                context.load_verify_locations(cafile=self.settings.tls_ca)
            else:
                context.load_default_certs()
        return context

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

    def quit(self) -> None:
        """Send QUIT (best effort, short wait) and close."""
        if self.sock is not None:
            try:
                self._command("QUIT", min(5.0, self.settings.rset_timeout), IDLE)
            except SmtpFailure:
                pass
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock, self._buffer = None, b""

    @property
    def connected(self) -> bool:
        return self.sock is not None

    # -- wire ----------------------------------------------------------------------------

    def _command(self, line: str, timeout: float, stage: int, *,
                 keep_lines: bool = False) -> tuple[Reply, list[str]]:
        self._write(line.encode("utf-8") + b"\r\n", stage)
        lines: list[str] = []
        reply = self._read_reply(timeout, stage, lines_out=lines)
        return reply, lines

    def _write(self, data: bytes, stage: int, *, timeout: float | None = None) -> None:
        if self.sock is None:
            raise SmtpFailure(closed_by_remote(), stage)
        self.sock.settimeout(timeout or self.settings.connect_timeout)
        try:
            sent = self.sock.send(data)   # one syscall; sendall() adds a getsockopt
            if sent < len(data):
                self.sock.sendall(memoryview(data)[sent:])
        except TimeoutError as exc:
            raise SmtpFailure(timed_out(), stage) from exc
        except OSError as exc:
            raise SmtpFailure(closed_by_remote(), stage) from exc

    def _read_reply(self, timeout: float, stage: int, *, missing: Reply | None = None,
                    lines_out: list[str] | None = None) -> Reply:
        # One deadline for the whole reply: a peer trickling a byte at a time must not
        # keep the connection (and its queue slot) forever; and a bound on its size.
        deadline = time.monotonic() + timeout
        lines, code, size = [], 0, 0
        while True:
            line = self._read_line(deadline, stage, missing)
            size += len(line) + 2
            if size > MAX_REPLY_BYTES or len(lines) >= MAX_REPLY_LINES:
                raise SmtpFailure(internal(451, "4.5.0", f"reply from {self.ip} too long"), stage)
            if len(line) < 3 or not line[:3].isdigit():
                raise SmtpFailure(internal(451, "4.5.0", f"bad reply from {self.ip}: {line[:80]!r}"),
                                  stage)
            code = int(line[:3])
            lines.append(line[4:])
            if line[3:4] != "-":
                break
        if lines_out is not None:
            lines_out.extend(lines)
        return parse_reply(code, lines)

    def _read_line(self, deadline: float, stage: int, missing: Reply | None) -> str:
        if self.sock is None:
            raise SmtpFailure(closed_by_remote(), stage)
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SmtpFailure(missing or timed_out(), stage)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError as exc:
                raise SmtpFailure(missing or timed_out(), stage) from exc
            except OSError as exc:
                raise SmtpFailure(missing or closed_by_remote(), stage) from exc
            if not chunk:
                raise SmtpFailure(missing or closed_by_remote(), stage)
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise SmtpFailure(internal(451, "4.5.0", f"reply from {self.ip} too long"), stage)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")
