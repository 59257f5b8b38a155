"""HTTPS on an HTTP_Listener ``Listen``: ``use_ssl = true`` serves TLS from the first byte.

service.py calls ``startup_check(cfg, spec)`` when it opens a Listen (a Listen with
use_ssl but no usable certificate refuses to start, at the Listen's file:line:col --
it never serves plaintext instead); listener.py calls ``wrap(sock, settings, ...)``
for each connection whose resolved settings have use_ssl (Peer scopes may differ).
The SSLContext is the SMTP listener's: smtp/tls.py ``profile_of`` / ``server_context``
(same options -- tls_certificate, tls_key, tls_ciphers, tls_protocols, tls_client_ca,
tls_verify_mode -- same cache, rebuilt when a certificate file changes). Counters
``tls_inbound_ok`` / ``tls_inbound_failed`` are shared with SMTP. The handshake runs
in the connection's greenlet (gevent ssl); a failed one is one paniclog line and a
closed socket, never a traceback. Never reads HTTP.
"""
from __future__ import annotations

import socket
import ssl
from typing import Any, Callable

from ..smtp.tls import HANDSHAKE_TIMEOUT, TLSConfigError, profile_of, server_context
from .settings import ListenSettings


class HttpsConfigError(Exception):
    """use_ssl is on but the Listen's TLS options cannot make a server context."""


def startup_check(settings: ListenSettings, where: str) -> None:
    """Raise HttpsConfigError (``where`` is the Listen's file:line:col) when use_ssl
    cannot work with the Listen-level TLS options."""
    if not settings.use_ssl:
        return
    profile = profile_of(settings)
    if profile is None:
        raise HttpsConfigError(f"{where}: use_ssl on HTTP_Listener needs tls_certificate and "
                               f"tls_key (for Listen {settings.listen})")
    try:
        server_context(profile)
    except TLSConfigError as exc:
        raise HttpsConfigError(f"{where}: use_ssl on Listen {settings.listen}: {exc}") from None


def wrap(sock: Any, settings: ListenSettings, peer: str,
         log: Callable[[str], None], count: Callable[[str], None]) -> Any | None:
    """The TLS socket after a completed handshake, or None (logged, counted, closed)."""
    profile = profile_of(settings)
    try:
        if profile is None:
            raise TLSConfigError("use_ssl is on but tls_certificate / tls_key are not set")
        ctx = server_context(profile)
    except TLSConfigError as exc:
        log(f"HTTPS unavailable for {peer} on {settings.listen}: {exc}")
        count("failed")
        _close(sock)
        return None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # a Unix-domain socket has no Nagle
    timeout = min(HANDSHAKE_TIMEOUT, settings.idle_time or HANDSHAKE_TIMEOUT)
    tls_sock = None
    try:
        tls_sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        tls_sock.settimeout(timeout)
        tls_sock.do_handshake()
    except (ssl.SSLError, socket.timeout, TimeoutError, OSError) as exc:
        log(f"HTTPS handshake with {peer} on {settings.listen} failed: "
            f"{getattr(exc, 'reason', None) or exc}")
        count("failed")
        _close(tls_sock or sock)
        return None
    tls_sock.settimeout(settings.idle_time if settings.idle_time > 0 else None)
    count("ok")
    return tls_sock


def tls_environ(tls_sock: Any) -> dict[str, str]:
    """WSGI/CGI variables describing the TLS session (HTTPS, SSL_PROTOCOL, SSL_CIPHER...)."""
    environ = {"HTTPS": "on", "wsgi.url_scheme": "https",
               "SSL_PROTOCOL": str(tls_sock.version() or "")}
    cipher = tls_sock.cipher()
    if cipher:
        environ["SSL_CIPHER"] = cipher[0]
    peer = tls_sock.getpeercert()
    if peer:
        subject = dict(kv for rdn in peer.get("subject", ()) for kv in rdn)
        environ["SSL_CLIENT_S_DN_CN"] = subject.get("commonName", "")
        environ["SSL_CLIENT_VERIFY"] = "SUCCESS"
    return environ


def _close(sock: Any) -> None:
    try:
        sock.close()
    except OSError:
        pass
