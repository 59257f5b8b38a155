"""The connection half of the outbound SMTP client: connect, greet, STARTTLS, the wire.

A base class of delivery/client.py's SmtpClient (no extra call layer: its methods are
the client's own), called through it by delivery/engine.py and delivery/pool.py.
``open()``: connect (``bind_address``, ``connect_timeout``), the banner, EHLO (HELO when
EHLO is refused; LHLO and no fallback with ``lmtp``), STARTTLS per ``tls`` (no /
ifavailable / required, with ``tls_verify``/``tls_ca``; ``ifavailable`` falls back to a
plain connection when the handshake fails and ``tls_ifavailable_fallback`` allows it);
``quit()``, ``close()``; the wire: one command and its reply (``_command``), a write
(``_write``), a multi-line reply read against one deadline and bounded in size
(``_read_reply``). It uses from SmtpClient: ``ip``, ``port``, ``settings``,
``server_name``, ``extensions``, ``tls_active``, ``sock``, ``_buffer``, ``opened_at``.

Every failure is a SmtpFailure carrying the reply (or an ``[internal]`` reason) and the
stage code. Never blocks the hub (gevent sockets); never touches the spool, logs or
config. TLS_HANDSHAKES counts this process's STARTTLS handshakes (the console's ``tls``).
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Any

from gevent import socket as gsocket
from gevent import ssl as gssl

from .replies import (AFTER_EHLO, BANNER, EHLO, IDLE, MAX_REPLY_BYTES, MAX_REPLY_LINES,
                      NOT_CONNECTED, STARTTLS, TLS_HANDSHAKE, Reply, SmtpFailure,
                      closed_by_remote, internal, parse_reply, timed_out)

# STARTTLS handshakes of this process ("ok" / "failed"): the console's ``tls`` reads them
TLS_HANDSHAKES: Counter[str] = Counter()


class ClientConnection:
    """Connection and wire methods of SmtpClient (delivery/client.py); not used alone."""

    ip: str
    port: int
    settings: Any
    server_name: str
    extensions: dict[str, str]
    tls_active: bool
    sock: Any
    _buffer: bytes
    opened_at: float

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
