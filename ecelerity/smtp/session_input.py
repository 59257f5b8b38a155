"""Reading from an inbound SMTP client: command lines, BDAT octets and DATA bodies.

The input half of smtp/session.py's Session (a base class of it, so no call goes
through an extra layer): ``read_line`` (one command line; flushes queued replies before
it waits), ``read_exact`` (BDAT), ``read_data`` (a DATA body up to <CRLF>.<CRLF>),
``take_pending_input`` and ``replace_socket`` (STARTTLS), with the timeouts of the
session docstring. Used by smtp/verbs.py, smtp/bdat.py, smtp/auth.py and smtp/tls.py
through the session. It needs from the Session: ``sock``, ``settings``, ``trace``,
``_splitter``, ``_deadline``, ``_closing``, ``flush()`` and ``_bad_command()``.
It never writes a reply itself (the Session does), never blocks the hub (gevent
sockets) and never interprets bytes a client pipelined after STARTTLS.

The exceptions here end a session; Session.run turns each into its last reply.
"""
from __future__ import annotations

import socket
import time
from typing import Any

from .._speedups.smtpline import DataReader, LineSplitter, LineTooLong
from ..core import spool_latency
from . import replies

RECV_SIZE = 65536
PROGRESS_OCTETS = 1000  # BDAT: octets that earn another idle_time (RFC 5321's text line bound)


class ClientGone(Exception):
    """The client closed the connection or the socket failed."""


class IdleTimeout(Exception):
    """No input within idle_time."""


class SessionTimeout(Exception):
    """The whole-session time bound was reached."""


class Shutdown(Exception):
    """The service is stopping; raised into the session greenlet."""


class SessionInput:
    """Input methods of Session (smtp/session.py); not used on its own."""

    __slots__ = ()
    sock: Any
    settings: Any
    trace: Any
    _splitter: LineSplitter
    _deadline: float
    _closing: bool

    def _line_deadline(self, timeout: float | None = None) -> float:
        """When the line (or piece) being read must be complete: idle_time (or timeout) from now."""
        return time.monotonic() + (self.settings.idle_time if timeout is None else timeout)

    def _recv(self, line_deadline: float) -> bytes:
        """One recv() waiting at most until min(line deadline, session deadline).

        The deadline belongs to the line, not to the recv(): a client trickling one
        byte at a time still has to finish its line within idle_time."""
        now = time.monotonic()
        session_left = self._deadline - now
        if session_left <= 0:
            raise SessionTimeout()
        line_left = line_deadline - now
        if line_left <= 0:
            raise IdleTimeout()
        try:
            self.sock.settimeout(min(line_left, session_left))
            data = self.sock.recv(RECV_SIZE)
        except (socket.timeout, TimeoutError):
            if session_left <= line_left:
                raise SessionTimeout() from None
            raise IdleTimeout() from None
        except OSError:
            raise ClientGone() from None
        if not data:
            raise ClientGone()
        if self.trace is not None:
            self.trace.received(data)
        return data

    def read_line(self, timeout: float | None = None) -> bytes:
        """The next command line (terminator removed); flushes replies before waiting.

        The line must be complete within idle_time (or ``timeout``) of the first wait for it."""
        deadline = 0.0  # set when this line first has to wait for input
        while True:
            try:
                line = self._splitter.next_line()
            except LineTooLong:
                self._bad_command(replies.LINE_TOO_LONG)
                if self._closing:
                    raise ClientGone() from None
                continue
            if line is not None:
                return line
            self.flush()
            if not deadline:
                deadline = self._line_deadline(timeout)
            self._splitter.feed(self._recv(deadline))

    def read_exact(self, count: int, timeout: float | None = None) -> bytes:
        """Exactly ``count`` raw bytes (BDAT); what follows stays buffered for read_line.

        Raw octets have no lines: each PROGRESS_OCTETS received (a text line's worth)
        earn another idle_time (or ``timeout``), so a trickle is cut like a slow line."""
        buf = bytearray(self._splitter.take_buffer())
        deadline = 0.0
        renewed_at = len(buf)
        while len(buf) < count:
            self.flush()
            if not deadline or len(buf) - renewed_at >= PROGRESS_OCTETS:
                deadline, renewed_at = self._line_deadline(timeout), len(buf)
            buf += self._recv(deadline)
        if len(buf) > count:
            self._splitter.feed(bytes(buf[count:]))
        return bytes(buf[:count])

    def take_pending_input(self) -> bytes:
        """Bytes received but not yet consumed as commands (STARTTLS injection checks)."""
        return self._splitter.take_buffer()

    def replace_socket(self, sock: Any, *, keep_buffered_input: bool = False) -> None:
        """Swap in a new socket (TLS); input buffered from the old one is dropped by default."""
        pending = self._splitter.take_buffer()
        self.sock = sock
        self._splitter = LineSplitter(max_line=self.settings.max_line_length)
        if keep_buffered_input and pending:
            self._splitter.feed(pending)

    def read_data(self) -> tuple[list[bytes], Any]:
        """Read a DATA body up to <CRLF>.<CRLF>; pipelined bytes after it go back to read_line."""
        settings = self.settings
        reader = DataReader(max_size=settings.max_message_size, lone_lf="keep", lone_cr="keep",
                            max_line=settings.line_limit)
        chunk = self._splitter.take_buffer()
        deadline = 0.0  # each body line within idle_time: renewed whenever a line ends
        while True:
            if chunk:
                end = reader.feed(chunk)
                if end >= 0:
                    spool_latency.start()
                    if end < len(chunk):
                        self._splitter.feed(chunk[end:])
                    break
                if b"\n" in chunk:
                    deadline = 0.0
            if not deadline:
                deadline = self._line_deadline()
            chunk = self._recv(deadline)
        return [reader.take()], reader
