"""One inbound SMTP session: the greenlet that owns a client connection.

SMTPService (smtp/server.py) creates a Session per accepted connection with the
SessionSettings resolved once for it, and calls ``run()`` in that connection's
greenlet. The session reads commands (PIPELINING: greedily; replies are batched
and flushed when the input buffer is empty and before DATA's 354), walks the
RFC 5321 state machine, runs the validation phases (policy/phases.py) at each
step and, after DATA, hands the message to smtp/accept.py, which spools it and
builds the final reply. It never reads configuration (only ``self.settings``),
never blocks the hub (socket I/O is gevent's; the spool's store() blocks only this
greenlet) and never sends a traceback to a client. The one exception to "this
greenlet writes the socket": on a plain socket the 250 for a stored message is sent by
the spool's committer the moment its record is durable (``early_reply``; issue 9: it
saves the wake-up of this greenlet and of every session woken before it), never before.

Timeouts: ``idle_time`` bounds each command line, each DATA body line and each
PROGRESS_OCTETS of a BDAT chunk from the moment reading it has to wait (not each
recv(): a client trickling a byte at a time is cut like a silent one, 421 4.4.2);
``session_time_limit`` bounds the whole session.

States: ``connected`` -> ``greeted`` (after HELO/EHLO) -> ``mail`` (after MAIL) ->
``rcpt`` (at least one RCPT accepted) -> back to ``greeted`` after DATA or RSET;
``closed`` at the end.

Seams for the extensions (smtp/tls.py, smtp/auth.py, smtp/bdat.py, smtp/xclient.py):

- ``register_verb("STARTTLS", handler)``: ``handler(session, arg: str) -> None``
  answers a command verb (upper-case); built-in verbs may be replaced.
- ``register_capability(provider)``: ``provider(session) -> list[str]`` adds EHLO
  keywords (e.g. ``["STARTTLS"]``, ``["AUTH PLAIN LOGIN"]``, ``["CHUNKING"]``);
  ``ehlo_capabilities(session)`` builds the list for one session, and
  ``session.capability_edits`` (add/remove, for ``ac:esmtp_capability_add/remove``)
  edits it last.
- Session API: ``reply(code, enhanced, text)`` (queued; ``flush()`` sends),
  ``read_line(timeout=None) -> bytes``, ``read_exact(n, timeout=None) -> bytes``,
  ``replace_socket(sock)`` (after a TLS handshake; drops pipelined plaintext),
  ``take_pending_input()`` (bytes pipelined but not yet read), ``greet()`` (implicit
  TLS when ``use_ssl``, the connect phase and the banner; XCLIENT calls it again),
  ``reset_transaction()``, ``accept_message(body_chunks)`` (data phases + spool +
  final reply), ``close(reply=None)``, and the attributes ``state``, ``settings``,
  ``vctx``, ``authenticated_user``, ``tls_active``, ``esmtp``, ``peer_ip``.
"""
from __future__ import annotations

import logging
import socket
import time
from typing import Any, Callable

import gevent.socket

from .._speedups.smtpline import DataReader, LineSplitter, LineTooLong
from ..core import spool_latency
from ..core.envelope import Recipient
from ..log.service import log_refusal
from ..policy import relay
from ..policy.phases import HookRegistry
from ..policy.vctx import ValidationContext
from . import accept, replies
from .address import Mailbox
from .commands import (MailParams, parse_command)
from .replies import Reply
from .settings import SessionSettings
from .trace import tracer_for

log = logging.getLogger("ecelerity.smtp")

MAX_BAD_COMMANDS = 20  # then 421: a client that only sends garbage is not an SMTP client
RECV_SIZE = 65536
PROGRESS_OCTETS = 1000  # BDAT: octets that earn another idle_time (RFC 5321's text line bound)

VerbHandler = Callable[["Session", str], None]
CapabilityProvider = Callable[["Session"], list[str]]
VERBS: dict[str, VerbHandler] = {}
CAPABILITY_PROVIDERS: list[CapabilityProvider] = []


def register_verb(verb: str, handler: VerbHandler) -> None:
    VERBS[verb.upper()] = handler


def register_capability(provider: CapabilityProvider) -> None:
    if provider not in CAPABILITY_PROVIDERS:
        CAPABILITY_PROVIDERS.append(provider)


def ehlo_capabilities(session: "Session") -> list[str]:
    """EHLO keywords for this session: core, then extensions, then per-session edits."""
    size = session.settings.max_message_size
    caps = ["PIPELINING", f"SIZE {size}" if size else "SIZE", "8BITMIME",
            "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN"]
    for provider in CAPABILITY_PROVIDERS:
        caps.extend(provider(session))
    if session.settings.smtp_extensions is not None:
        caps = list(session.settings.smtp_extensions)
    for action, keyword in session.capability_edits:
        if action == "add":
            caps.append(keyword)
        else:
            word = keyword.split()[0].upper()
            caps = [c for c in caps if c.split()[0].upper() != word]
    return caps


class ClientGone(Exception):
    """The client closed the connection or the socket failed."""


class IdleTimeout(Exception):
    """No input within idle_time."""


_banner_stamp: list = [None, ""]   # [whole second, "VERSION DATE"]: one strftime per second


def _banner_tail() -> str:
    second = int(time.time())
    if _banner_stamp[0] != second:
        from .. import __version__
        _banner_stamp[:] = [second, f"{__version__} "
                            f"{time.strftime('%a, %d %b %Y %H:%M:%S %z', time.localtime(second))}"]
    return _banner_stamp[1]


class SessionTimeout(Exception):
    """The whole-session time bound was reached."""


class Shutdown(Exception):
    """The service is stopping; raised into the session greenlet."""


class Session:
    def __init__(self, sock: Any, peer: tuple, *, settings: SessionSettings, spool: Any,
                 hooks: HookRegistry | None = None, local_addr: str = "",
                 conn_id: str = "", service: Any = None):
        self.sock = sock
        self.peer_ip = str(peer[0]) if peer else ""
        self.peer_port = int(peer[1]) if peer and len(peer) > 1 else 0
        self.local_addr = local_addr
        self.settings = settings
        self.spool = spool
        self.hooks = hooks or HookRegistry()
        self.service = service
        self.conn_id = conn_id
        self.vctx = ValidationContext()
        self.state = "connected"
        self.esmtp = False
        self.helo: str | None = None
        self.tls_active = False
        self.authenticated_user: str | None = None
        self.capability_edits: list[tuple[str, str]] = self.vctx.capability_edits  # one list: policies edit it
        self.mail_from: Mailbox | None = None
        self.mail_params = MailParams()
        self.recipients: list[Recipient] = []
        self.messages_accepted = 0
        self.bad_commands = 0
        self.last_reply: Reply | None = None
        self._out: list[bytes] = []
        self._early: tuple[Reply, float] | None = None  # a 250 the committer already sent
        self._splitter = LineSplitter(max_line=settings.max_line_length)
        limit = settings.session_time_limit  # 0 = unlimited
        self.connected_at = time.monotonic()
        self._deadline = self.connected_at + limit if limit > 0 else float("inf")
        self._rdns: Any = None  # smtp/rdns.PendingName when received_rdns is on
        self._closing = False
        self.trace = tracer_for(self)  # 'trace smtp' (smtp/trace.py): None unless traced

    # -- the main loop ---------------------------------------------------------------
    def run(self) -> None:
        try:
            if self.greet():
                while not self._closing:
                    self.handle_line(self.read_line())
        except ClientGone:
            pass
        except IdleTimeout:
            self.reply_with(replies.IDLE_TIMEOUT)
        except SessionTimeout:
            self.reply_with(replies.SESSION_TIMEOUT)
        except Shutdown:
            self.reply_with(replies.SHUTTING_DOWN)
        except Exception:  # noqa: BLE001 - a bug here must cost one session, not the daemon
            log.exception("session %s from %s failed", self.conn_id, self.peer_ip)
            self.reply(421, "4.3.0", "local error, closing connection")
        finally:
            self.state = "closed"  # a PTR lookup still running finishes into the cache
            try:
                self.flush()
            except ClientGone:
                pass
            try:
                self.sock.close()
            except OSError:
                pass
            if self.trace is not None:
                self.trace.close()

    def greet(self) -> bool:
        """Implicit TLS (use_ssl), the connect phase, then the banner; False ends the session."""
        if self.settings.use_ssl and not self.tls_active:
            from .tls import start_implicit_tls  # the TLS extension owns the handshake
            if not start_implicit_tls(self):
                return False
        conn = self.vctx.conn
        conn.update(self.settings.context)
        if self.settings.pathway:
            conn.setdefault("pathway", self.settings.pathway)
        if self.settings.open_relay or relay.peer_in_networks(self.peer_ip, self.settings.relay_hosts):
            conn["can_relay"] = "true"
        conn["connection_message_count"] = "0"
        conn["connection_rcpt_count"] = "0"
        conn["peer_ip"] = self.peer_ip  # what ec_get_message_received_* and logs read
        conn["peer_port"] = str(self.peer_port)
        conn["local_addr"] = self.local_addr
        rdns = getattr(self.service, "rdns", None)
        if self.settings.received_rdns and rdns is not None and self._rdns is None:
            self._rdns = rdns.start(self.peer_ip)  # runs while the client talks
        result = self.hooks.run("connect", self.vctx)
        if result.disconnect or result.rejected:
            self.close(result.reply)
            return False
        self.reply_with(result.reply if result.reply else self.banner())
        return True

    def banner(self) -> Reply:
        static = self.settings.static_banner
        if static:
            code, _, text = static.partition(" ")
            return Reply(int(code) if code.isdigit() else 220, None, text if code.isdigit() else static)
        return Reply(220, "2.0.0", f"{self.settings.banner_name} ESMTP ecelerity {_banner_tail()}")

    def handle_line(self, line: bytes) -> None:
        cmd = parse_command(line)
        if cmd.had_trailing_whitespace and not self.settings.allow_trailing_whitespace_in_commands:
            self._bad_command(replies.TRAILING_WHITESPACE)
            return
        handler = VERBS.get(cmd.verb)
        if handler is None:
            self._bad_command(replies.UNRECOGNIZED)
            return
        handler(self, cmd.arg)

    def _bad_command(self, reply: Reply) -> None:
        self.bad_commands += 1
        if self.bad_commands >= MAX_BAD_COMMANDS:
            self.close(Reply(421, "4.7.0", "too many errors, closing connection"))
        else:
            self.reply_with(reply)

    def client_name(self) -> str | None:
        """The client's reverse DNS name (received_rdns), waiting at most until
        connect + received_rdns_timeout; None when off, absent or late."""
        if self._rdns is None:
            return None
        return self._rdns.name(self.connected_at + self.settings.received_rdns_timeout)

    # -- output ----------------------------------------------------------------------
    def reply(self, code: int, enhanced: str | None, text: str) -> None:
        self.reply_with(Reply(code, enhanced, text))

    def reply_with(self, reply: Reply) -> None:
        self.last_reply = reply
        self._out.append(reply.wire())
        if reply.code >= 400:
            log_refusal(self, reply)  # every refusal goes out here: the rejectlog line

    def flush(self) -> None:
        if not self._out:
            return
        data = b"".join(self._out)
        self._out.clear()
        if self.trace is not None:
            self.trace.sent(data)
        try:
            sent = self.sock.send(data)   # one syscall; sendall() adds a getsockopt
            if sent < len(data):
                self.sock.sendall(memoryview(data)[sent:])
        except OSError:
            raise ClientGone() from None
        spool_latency.finish()

    def early_reply(self, reply: Reply) -> Callable[[Any], None] | None:
        """A callback for Spool.store(on_durable=...): sends ``reply`` from the spool's
        committer the moment the record is durable, instead of after this greenlet is
        woken (one hub hop and every other woken session's work later; issue 9).

        Plain sockets only (a TLS record cannot be written from outside the session), and
        only when no other reply is queued. It never blocks: what the kernel does not take
        at once is queued and sent by the session's next flush().
        """
        if type(self.sock) is not gevent.socket.socket or self._out:
            return None

        def send_now(_outcome: Any) -> None:
            if self._out or self._closing:
                return
            data = reply.wire()
            try:
                sent = self.sock._sock.send(data)  # the OS socket: never waits
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                return  # the session's own flush() sees the broken connection
            if sent < len(data):
                self._out.append(data[sent:])
            if self.trace is not None:
                self.trace.sent(data)
            self._early = (reply, time.perf_counter())
        return send_now

    def close(self, reply: Reply | None = None) -> None:
        if reply is not None:
            self.reply_with(reply)
        self._closing = True

    @property
    def closing(self) -> bool:
        return self._closing

    # -- input -----------------------------------------------------------------------
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

    _greet = greet  # the name extensions used before greet() was public

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

    # -- transaction -----------------------------------------------------------------
    def reset_transaction(self) -> None:
        self.mail_from = None
        self.mail_params = MailParams()
        self.recipients = []
        self.vctx.reset_message()
        if self.state in ("mail", "rcpt"):
            self.state = "greeted" if self.helo is not None else "connected"

    def accept_message(self, body_chunks: list[bytes], *, lone_lf_seen: bool | None = None,
                       oversized: bool = False, long_line: bool | None = None) -> Reply:
        """Run the data phases, spool, send the final reply; the transaction ends either way."""
        try:
            reply = accept.accept_message(self, body_chunks, lone_lf_seen=lone_lf_seen,
                                          oversized=oversized, long_line=long_line)
        finally:
            self.reset_transaction()
        early, self._early = self._early, None
        if early is not None and early[0] is reply:  # already on the wire (early_reply)
            self.last_reply = reply
            spool_latency.finish(early[1])
            return reply
        self.reply_with(reply)
        return reply

    def run_phase(self, phase: str, *args: Any) -> Reply | None:
        """Run a phase's hooks; returns the reply a hook set (a disconnect closes the session)."""
        result = self.hooks.run(phase, self.vctx, *args)
        if result.disconnect is not None:
            self.close()
            return result.reply or result.disconnect
        return result.reply


# The built-in verbs live in smtp/verbs.py, which registers them on import.
from . import verbs as _verbs  # noqa: E402,F401
# The extensions register their verbs and EHLO keywords on import, after the built-ins
# (bdat wraps the built-in DATA and RCPT): STARTTLS, AUTH, BDAT/CHUNKING, XCLIENT.
from . import auth as _auth, bdat as _bdat, tls as _tls, xclient as _xclient  # noqa: E402,F401
