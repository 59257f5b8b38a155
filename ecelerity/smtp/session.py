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
``register_verb`` / ``register_capability`` / ``ehlo_capabilities``
(smtp/verb_registry.py, re-exported here); the input methods ``read_line``,
``read_exact``, ``read_data``, ``take_pending_input``, ``replace_socket`` and the
exceptions ClientGone, IdleTimeout, SessionTimeout, Shutdown (smtp/session_input.py, a
base class; re-exported here); and ``reply(code, enhanced, text)`` (queued; ``flush()``
sends), ``greet()`` (implicit TLS when ``use_ssl``, the connect phase and the banner of
smtp/banner.py; XCLIENT calls it again), ``reset_transaction()``,
``accept_message(body_chunks)`` (data phases + spool + final reply),
``close(reply=None)``, and the attributes ``state``, ``settings``, ``vctx``,
``authenticated_user``, ``tls_active``, ``esmtp``, ``peer_ip``.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import gevent.socket

from .._speedups.smtpline import LineSplitter
from ..core import spool_latency
from ..core.spool_cycle import DurableReply
from ..core.envelope import Recipient
from ..log.service import log_refusal
from ..policy import relay
from ..policy.phases import HookRegistry
from ..policy.vctx import ValidationContext
from . import accept, replies
from .address import Mailbox
from .banner import banner_reply
from .commands import (MailParams, parse_command)
from .replies import Reply
from .session_input import (  # noqa: F401 - re-exported: server.py, auth.py and tests use them
    PROGRESS_OCTETS, RECV_SIZE, ClientGone, IdleTimeout, SessionInput, SessionTimeout, Shutdown)
from .settings import SessionSettings
from .trace import tracer_for
from .verb_registry import (  # noqa: F401 - re-exported: the extensions register through here
    CAPABILITY_PROVIDERS, VERBS, CapabilityProvider, VerbHandler, ehlo_capabilities,
    register_capability, register_verb)

log = logging.getLogger("ecelerity.smtp")

MAX_BAD_COMMANDS = 20  # then 421: a client that only sends garbage is not an SMTP client


class Session(SessionInput):
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
        return banner_reply(self.settings)

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

    def early_reply(self, reply: Reply) -> DurableReply | None:
        """For Spool.store(on_durable=...): ``reply`` sent by the journal I/O thread itself
        the moment the record is durable, not after this greenlet is woken (the hub's
        queueing stays out of end-of-DATA -> 250; issue 9).

        Plain sockets only (a TLS record cannot be written from outside the session), and
        only when no other reply is queued (nothing else writes to the socket while this
        greenlet waits for the spool). What the kernel does not take at once is queued
        and sent by the session's next flush().
        """
        if type(self.sock) is not gevent.socket.socket or self._out:
            return None
        data = reply.wire()

        def delivered(sent: int, at: float) -> None:
            if sent < 0:
                return  # not sent: the session replies itself (and sees a broken socket)
            if sent < len(data):
                self._out.append(data[sent:])
            if self.trace is not None:
                self.trace.sent(data)
            self._early = (reply, at)
        try:
            return DurableReply(self.sock.fileno(), data, delivered)
        except OSError:  # no descriptor to spare (EMFILE) or the socket is gone
            return None

    def close(self, reply: Reply | None = None) -> None:
        if reply is not None:
            self.reply_with(reply)
        self._closing = True

    @property
    def closing(self) -> bool:
        return self._closing

    _greet = greet  # the name extensions used before greet() was public

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
