"""STARTTLS (RFC 3207) and implicit TLS (``use_ssl``) for the inbound ESMTP listener.

Registered into smtp/session.py on import: the ``STARTTLS`` verb and an EHLO
capability provider. ``start_implicit_tls(session)`` is called by the session
before its banner when ``use_ssl`` is on (SMTPS, port 465 style).

Options (read from ``session.settings`` only, resolved once per connection):
``tls_certificate`` + ``tls_key`` (STARTTLS is offered only when both are set and the
session is not yet in TLS), ``tls_ciphers`` (OpenSSL syntax), ``tls_protocols``
(default TLSv1.2 and TLSv1.3; syntax below), ``tls_client_ca`` + ``tls_verify_mode``
(``none`` | ``optional`` | ``require``; with a CA and no mode: ``optional``),
``tls_verified_peer_can_relay`` and ``starttls_injection_policy``.

Parsing those options and building a context: smtp/tls_context.py (``tls_protocols``
syntax there; its public names are re-exported here for http/https.py and the tests).

STARTTLS injection: bytes the client sent after ``STARTTLS`` before reading our 220
are never interpreted. With ``starttls_injection_policy = reject`` (Momentum's
default) STARTTLS is answered ``554 5.5.1 Error: commands pipelined after
STARTTLS`` and the connection is closed; any other value discards them, answers
220 and starts the handshake. After the handshake the session is back to its
before-EHLO state (RFC 3207 §4.2): HELO/EHLO, AUTH and the transaction are forgotten.

Here: the verb, implicit TLS, the handshake and the per-process context cache. SSL
contexts are built once per (certificate, key, ciphers, protocols, client CA, verify
mode, file stamps) and cached (``cache_info``/``clear_cache``, the console's ``tls``),
so a reload or a renewed certificate gets a fresh context. The handshake runs on
gevent's ssl (never blocks the hub); a failed handshake is one log line and a closed
connection, never a traceback.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any

from .replies import Reply
from .tls_context import (  # noqa: F401 - re-exported: http/https.py and tests use them
    DEFAULT_VERSIONS, TLSConfigError, TLSProfile, build_context, file_stamp, parse_protocols,
    profile_of)

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("ecelerity.smtp")

READY = Reply(220, "2.0.0", "Ready to start TLS")
INJECTION_REFUSED = Reply(554, "5.5.1", "Error: commands pipelined after STARTTLS")
ALREADY_ACTIVE = Reply(503, "5.5.1", "TLS already active")
NOT_OFFERED = Reply(502, "5.5.1", "STARTTLS not offered")
UNAVAILABLE = Reply(454, "4.7.0", "TLS not available due to temporary reason")
NO_ARGUMENTS = Reply(501, "5.5.4", "Syntax error (no parameters allowed)")
IN_TRANSACTION = Reply(503, "5.5.1", "Error: MAIL transaction in progress")
GREET_FIRST = Reply(503, "5.5.1", "EHLO/HELO first")

HANDSHAKE_TIMEOUT = 60.0  # seconds; bounded further by idle_time
CACHE_SIZE = 32
_cache: dict[tuple, ssl.SSLContext] = {}
_cache_lock = threading.Lock()
contexts_built = 0  # how many SSLContexts were built (tests check the cache with it)


def server_context(profile: TLSProfile) -> ssl.SSLContext:
    """The cached server SSLContext for ``profile``; raises TLSConfigError."""
    global contexts_built
    key = (profile, file_stamp(profile.certificate), file_stamp(profile.key),
           file_stamp(profile.client_ca))
    with _cache_lock:
        ctx = _cache.get(key)
    if ctx is not None:
        return ctx
    ctx = build_context(profile)
    contexts_built += 1
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = ctx
    return ctx


def session_context(session: "Session") -> ssl.SSLContext | None:
    """The context for this session, or None (not configured, or broken: logged)."""
    profile = profile_of(session.settings)
    if profile is None:
        return None
    try:
        return server_context(profile)
    except TLSConfigError as exc:
        log.error("TLS unavailable for %s: %s", session.peer_ip, exc)
        return None


# -- the handshake --------------------------------------------------------------------------
def handshake(session: "Session", ctx: ssl.SSLContext) -> bool:
    """Wrap the session socket and handshake; False (logged, session closing) on failure."""
    raw = session.sock
    timeout = min(HANDSHAKE_TIMEOUT, float(session.settings.idle_time or HANDSHAKE_TIMEOUT))
    try:
        # TLS 1.3 session tickets are small writes after the handshake: with Nagle on, the
        # next reply waits for the client's delayed ACK (~40 ms per session on loopback).
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # a Unix-domain socket has no Nagle
    try:
        tls_sock = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
    except (ssl.SSLError, OSError) as exc:
        log.info("TLS setup for %s failed: %s", session.peer_ip, exc)
        _count(session, "failed")
        session.close()
        return False
    session.replace_socket(tls_sock)
    try:
        tls_sock.settimeout(timeout)
        tls_sock.do_handshake()
    except (ssl.SSLError, socket.timeout, TimeoutError, OSError) as exc:
        log.info("TLS handshake with %s:%s failed: %s", session.peer_ip, session.peer_port,
                 getattr(exc, "reason", None) or exc)
        session.vctx.conn["tls_failed"] = "true"
        _count(session, "failed")
        session.close()
        return False
    _record(session, tls_sock)
    _count(session, "ok")
    return True


def _count(session: "Session", outcome: str) -> None:
    """``tls_inbound_ok`` / ``tls_inbound_failed`` in the App's stats (the console's ``tls``)."""
    app = getattr(getattr(session, "service", None), "app", None)
    if app is not None:
        from .. import stats
        stats.for_app(app).record(f"tls_inbound_{outcome}")


def cache_info() -> dict[str, int]:
    """The server context cache: contexts held, its bound, contexts built since start."""
    with _cache_lock:
        return {"size": len(_cache), "max": CACHE_SIZE, "built": contexts_built}


def clear_cache() -> int:
    """Forget every cached server context (the next session rebuilds); returns how many."""
    with _cache_lock:
        count = len(_cache)
        _cache.clear()
    return count


def _record(session: "Session", tls_sock: Any) -> None:
    """Fill the vctx connection dict like Momentum (tls, tls_cipher..., client cert)."""
    session.tls_active = True
    conn = session.vctx.conn
    conn["tls"] = "yes"
    conn["tls_protocol"] = str(tls_sock.version() or "")
    cipher = tls_sock.cipher()
    if cipher:
        conn["tls_cipher"] = cipher[0]
        conn["tls_cipher_algbits"] = str(cipher[2])
        conn["tls_cipher_usebits"] = str(cipher[2])
    peer = tls_sock.getpeercert()  # a non-empty dict only for a verified client certificate
    if peer:
        subject = _dn(peer.get("subject", ()))
        issuer = _dn(peer.get("issuer", ()))
        conn["tls_client_cert_subject"] = ",".join(f"{k}={v}" for k, v in subject)
        conn["tls_client_cert_subject_cn"] = dict(subject).get("commonName", "")
        conn["tls_client_cert_issuer"] = ",".join(f"{k}={v}" for k, v in issuer)
        conn["tls_client_cert_issuer_cn"] = dict(issuer).get("commonName", "")
        conn["tls_client_verified"] = "yes"
        if _as_bool(getattr(session.settings, "tls_verified_peer_can_relay", False)):
            conn["can_relay"] = "true"
    log.info("TLS %s %s with %s", conn["tls_protocol"], conn.get("tls_cipher", "?"), session.peer_ip)


def _dn(rdns: Any) -> list[tuple[str, str]]:
    return [(key, value) for rdn in rdns for key, value in rdn]


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "enabled")
    return bool(value)


def _forget_greeting(session: "Session") -> None:
    """RFC 3207 §4.2: discard everything learnt from the client before TLS."""
    session.reset_transaction()
    session.helo = None
    session.esmtp = False
    session.state = "connected"
    session.authenticated_user = None
    for key in ("ehlo_string", "ehlo_domain", "auth_user", "auth_name", "auth_status"):
        session.vctx.conn.pop(key, None)


# -- the verb, the capability and implicit TLS ---------------------------------------------
def do_starttls(session: "Session", arg: str) -> None:
    if arg.strip():
        session.reply_with(NO_ARGUMENTS)
        return
    if session.tls_active:
        session.reply_with(ALREADY_ACTIVE)
        return
    if profile_of(session.settings) is None:
        session.reply_with(NOT_OFFERED)
        return
    if session.helo is None:
        session.reply_with(GREET_FIRST)
        return
    if session.state in ("mail", "rcpt"):
        session.reply_with(IN_TRANSACTION)
        return
    ctx = session_context(session)
    if ctx is None:
        session.reply_with(UNAVAILABLE)
        return
    pipelined = session.take_pending_input()  # read, never interpreted
    if pipelined:
        policy = str(getattr(session.settings, "starttls_injection_policy", "reject") or "reject").lower()
        log.warning("STARTTLS injection from %s: %d byte(s) pipelined after STARTTLS (policy %s)",
                    session.peer_ip, len(pipelined), policy)
        session.vctx.conn["starttls_injection"] = "true"
        if policy == "reject":
            session.close(INJECTION_REFUSED)
            return
    session.reply_with(READY)
    session.flush()
    if handshake(session, ctx):
        _forget_greeting(session)


def start_implicit_tls(session: "Session") -> bool:
    """SMTPS: handshake before the banner. False means the session must end (logged)."""
    ctx = session_context(session)
    if ctx is None:
        log.error("use_ssl is on but TLS is not configured for %s; closing", session.peer_ip)
        session.close()
        return False
    return handshake(session, ctx)


def starttls_capability(session: "Session") -> list[str]:
    if session.tls_active or profile_of(session.settings) is None:
        return []
    return ["STARTTLS"] if session_context(session) is not None else []


def register() -> None:
    from .session import register_capability, register_verb
    register_verb("STARTTLS", do_starttls)
    register_capability(starttls_capability)


register()
