"""SMTP AUTH (RFC 4954): PLAIN, LOGIN and CRAM-MD5 on the inbound listener.

Registered into smtp/session.py on import: the ``AUTH`` verb and an EHLO
capability provider. Credentials are checked by the backends registered here
(``register_backend``; the default one, smtp/auth_backends.ConfigUsersBackend,
reads ``auth_users``), first definite answer wins. Then the ``auth`` validation
phase runs with ``(user,)`` and the vctx connection keys ``auth_user``,
``auth_name`` (the mechanism) and ``auth_status`` (pass | fail | error): a hook's
code >= 400 refuses a pass, a 2xx code accepts a failure (a hook that
authenticates by other means).

Options (from ``session.settings``): ``enable_authentication`` (AUTH is offered
only when true), ``auth_require_tls`` (default true: AUTH is offered and accepted
only after STARTTLS, else ``538 5.7.11``), ``always_allow`` / ``always_deny``
(Momentum), ``auth_users``, ``auth_failure_delay`` (tarpit base, seconds).

Replies: ``235 2.7.0`` success, ``535 5.7.8`` bad credentials, ``538 5.7.11``
encryption required, ``503 5.5.1`` AUTH twice / during a transaction / before
EHLO, ``504 5.5.4`` unknown mechanism, ``501 5.5.2`` bad base64, ``501 5.0.0`` the
client cancelled with ``*``, ``454 4.7.0`` backend failure.

Brute force: each failure is tarpitted, delay = base * 2^(n-1) seconds (capped at
8 s), where n = max(failures on this connection, recent failures of the peer).
The peer's failures (its IPv4 address, or its IPv6 /64) are kept per SMTPService in
a PeerFailures table: at most PEER_TABLE_SIZE peers (least recently failing
dropped first), each forgotten PEER_WINDOW seconds after its last failure, never
reset by a success. Once n reaches MAX_FAILURES the connection is closed with
``421 4.7.0``, and while the peer stays at MAX_FAILURES its next AUTH gets that
421 at once, so reconnecting buys nothing. ``auth_failure_delay = 0`` turns the
tarpit off, the per-peer accounting with it (only the per-connection cut stays).
The table is per process. Counts are in ``STATS``. An authenticated session may relay
(policy/relay.py). Here: the verb, the options and the verdict; the SASL exchanges and
the backend registry are smtp/auth_mechanisms.py, the per-peer table
smtp/auth_tarpit.py (their public names are re-exported here).
Every verdict, and a timeout inside the exchange, is an acctlog record
(``log_smtp_auth``, log/service.py: the only logging hook here); the session's own
exits (timeouts, a client gone, shutdown) pass through to the session loop.
Never logs a password or a response line; hash checks run in gevent's threadpool.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

import gevent

from ..log.service import log_smtp_auth
from .auth_mechanisms import (  # noqa: F401 - re-exported: lib_auth.py and tests use them
    MECHANISMS, BadBase64, Cancelled, _backends, mechanisms, register_backend,
    unregister_backend)
from .auth_tarpit import (  # noqa: F401 - re-exported: tests use them
    DEFAULT_FAILURE_DELAY, MAX_DELAY, MAX_FAILURES, PEER_TABLE_SIZE, PEER_WINDOW, PeerFailures,
    _peer_tables, failure_delay, peer_failures, peer_key)
from .replies import Reply

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("ecelerity.smtp")

SUCCESS = Reply(235, "2.7.0", "Authentication successful")
INVALID = Reply(535, "5.7.8", "Authentication credentials invalid")
ENCRYPTION_REQUIRED = Reply(538, "5.7.11", "Encryption required for requested authentication mechanism")
ALREADY = Reply(503, "5.5.1", "Error: already authenticated")
IN_TRANSACTION = Reply(503, "5.5.1", "Error: MAIL transaction in progress")
EHLO_FIRST = Reply(503, "5.5.1", "Error: send EHLO first")
NOT_OFFERED = Reply(502, "5.5.1", "Error: authentication not enabled")
UNKNOWN_MECHANISM = Reply(504, "5.5.4", "Unrecognized authentication type")
BAD_BASE64 = Reply(501, "5.5.2", "Cannot decode response")
CANCELLED = Reply(501, "5.0.0", "Authentication cancelled")
SYNTAX = Reply(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]")
TEMPORARY = Reply(454, "4.7.0", "Temporary authentication failure")
TOO_MANY = Reply(421, "4.7.0", "Too many authentication failures, closing connection")

STATS: Counter[str] = Counter()  # attempts, successes, failures, cancelled, errors, locked_out, mech:<NAME>


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "enabled")
    return bool(value)


def auth_enabled(settings: Any) -> bool:
    return _as_bool(getattr(settings, "enable_authentication", False), False)


def tls_required(settings: Any) -> bool:
    return _as_bool(getattr(settings, "auth_require_tls", True), True)


def auth_capability(session: "Session") -> list[str]:
    settings = session.settings
    if not auth_enabled(settings) or (tls_required(settings) and not session.tls_active):
        return []
    return ["AUTH " + " ".join(mechanisms(settings))]


# -- the verb -------------------------------------------------------------------------------
def _refusal(session: "Session", mech: str) -> Reply | None:
    settings = session.settings
    if not auth_enabled(settings):
        return NOT_OFFERED
    if session.authenticated_user is not None:
        return ALREADY
    if session.state in ("mail", "rcpt"):
        return IN_TRANSACTION
    if session.helo is None or not session.esmtp:
        return EHLO_FIRST
    if tls_required(settings) and not session.tls_active:
        return ENCRYPTION_REQUIRED
    if mech not in MECHANISMS or mech not in mechanisms(settings):
        return UNKNOWN_MECHANISM
    return None


def do_auth(session: "Session", arg: str) -> None:
    words = arg.split()
    if not words or len(words) > 2:
        session.reply_with(SYNTAX)
        return
    mech = words[0].upper()
    refusal = _refusal(session, mech)
    if refusal is not None:
        session.reply_with(refusal)
        return
    table = peer_failures(session)
    if table is not None and table.count(peer_key(session.peer_ip)) >= MAX_FAILURES:
        STATS["locked_out"] += 1
        log.info("AUTH from %s refused: %d recent failures", session.peer_ip, MAX_FAILURES)
        session.close(TOO_MANY)
        return
    STATS["attempts"] += 1
    STATS[f"mech:{mech}"] += 1
    from .session import ClientGone, IdleTimeout, SessionTimeout, Shutdown
    try:
        user, verdict = MECHANISMS[mech](session, words[1] if len(words) > 1 else None)
    except (IdleTimeout, SessionTimeout):
        log_smtp_auth(session, "", False, timeout=True)
        raise
    except (ClientGone, Shutdown):
        raise
    except Cancelled:
        STATS["cancelled"] += 1
        session.reply_with(CANCELLED)
        return
    except BadBase64:
        STATS["failures"] += 1
        log_smtp_auth(session, "", False)
        session.reply_with(BAD_BASE64)
        return
    except Exception:  # noqa: BLE001 - a backend bug is a temporary failure, not a dead session
        log.exception("AUTH %s backend failed for %s", mech, session.peer_ip)
        STATS["errors"] += 1
        session.reply_with(TEMPORARY)
        return
    _decide(session, mech, user, verdict)


def _decide(session: "Session", mech: str, user: str, verdict: bool | None) -> None:
    settings = session.settings
    if _as_bool(getattr(settings, "always_deny", False), False):
        verdict = False
    elif _as_bool(getattr(settings, "always_allow", False), False):
        verdict = True
    conn = session.vctx.conn
    conn["auth_user"] = user
    conn["auth_name"] = mech
    conn["auth_status"] = "pass" if verdict else "fail"
    code = session.run_phase("auth", user)
    if code is not None:
        verdict = code.code < 400
    if verdict:
        STATS["successes"] += 1
        session.authenticated_user = user
        log_smtp_auth(session, user, True)
        log.info("AUTH %s user=%s from %s: pass", mech, user, session.peer_ip)
        session.reply_with(code if code is not None else SUCCESS)
        return
    STATS["failures"] += 1
    conn["auth_status"] = "fail"
    failures = int(conn.get("auth_failures", "0") or 0) + 1
    conn["auth_failures"] = str(failures)
    table = peer_failures(session)
    from_peer = table.record(peer_key(session.peer_ip)) if table is not None else 0
    log_smtp_auth(session, user, False)
    log.info("AUTH %s user=%s from %s: fail (%d on this connection, %d recent from the peer)",
             mech, user, session.peer_ip, failures, from_peer)
    failures = max(failures, from_peer)
    delay = min(MAX_DELAY, failure_delay(settings) * 2 ** min(failures - 1, 16))
    if delay > 0:
        session.flush()
        gevent.sleep(delay)
    if failures >= MAX_FAILURES:
        session.close(TOO_MANY)
        return
    session.reply_with(code if code is not None and code.code >= 400 else INVALID)


def register() -> None:
    from .session import register_capability, register_verb
    register_verb("AUTH", do_auth)
    register_capability(auth_capability)


register()
