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
The table is per process. Counts are in ``STATS``. An authenticated session may relay (policy/relay.py).
Every verdict, and a timeout inside the exchange, is an acctlog record
(``log_smtp_auth``, log/service.py: the only logging hook here); the session's own
exits (timeouts, a client gone, shutdown) pass through to the session loop.
Never logs a password or a response line; hash checks run in gevent's threadpool.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import os
import time
import weakref
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Any, Callable

import gevent

from ..log.service import log_smtp_auth
from . import auth_backends
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

MAX_FAILURES = 5
MAX_DELAY = 8.0
DEFAULT_FAILURE_DELAY = 1.0
PEER_TABLE_SIZE = 65536  # peers whose recent failures are remembered
PEER_WINDOW = 600.0  # seconds a peer's failures are remembered after its last one
STATS: Counter[str] = Counter()  # attempts, successes, failures, cancelled, errors, locked_out, mech:<NAME>

_backends: list[Any] = [auth_backends.ConfigUsersBackend()]


def register_backend(backend: Any, *, first: bool = False) -> None:
    """Add a backend: ``check_password(user, password, settings) -> bool | None`` and optionally
    ``cram_md5_key(user, settings) -> str | None`` / ``supports_cram_md5(settings) -> bool``."""
    if backend in _backends:
        return
    if first:
        _backends.insert(0, backend)
    else:
        _backends.append(backend)


def unregister_backend(backend: Any) -> None:
    if backend in _backends:
        _backends.remove(backend)


# -- failures per peer ---------------------------------------------------------------------
def peer_key(ip: str) -> str:
    """What a peer's failures are counted under: its IPv4 address, or its IPv6 /64."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class PeerFailures:
    """Recent AUTH failures per peer key: LRU-bounded, each entry expiring ``window``
    seconds after its last failure. ``clock`` is injectable (tests)."""

    def __init__(self, capacity: int = PEER_TABLE_SIZE, window: float = PEER_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.window = window
        self.clock = clock
        self._entries: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, last)

    def __len__(self) -> int:
        return len(self._entries)

    def count(self, key: str) -> int:
        """Failures of ``key`` still inside the window (0 once expired)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0
        if self.clock() - entry[1] >= self.window:
            del self._entries[key]
            return 0
        return entry[0]

    def record(self, key: str) -> int:
        """One more failure of ``key``; returns its count, this one included."""
        failures = self.count(key) + 1
        self._entries[key] = (failures, self.clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return failures


_peer_tables: "weakref.WeakKeyDictionary[Any, PeerFailures]" = weakref.WeakKeyDictionary()


def peer_failures(session: "Session") -> PeerFailures | None:
    """The session's service's table (made on first use); None without a service or tarpit."""
    service = session.service
    if service is None or _failure_delay(session.settings) <= 0:
        return None
    table = _peer_tables.get(service)
    if table is None:
        table = _peer_tables[service] = PeerFailures()
    return table


def _failure_delay(settings: Any) -> float:
    base = getattr(settings, "auth_failure_delay", None)
    return DEFAULT_FAILURE_DELAY if base is None else max(0.0, float(base))


class _Cancelled(Exception):
    pass


class _BadBase64(Exception):
    pass


class _Challenge(Reply):
    """``334 <base64>``: RFC 4954 wants the space even when the challenge is empty."""

    def wire(self, enhanced_codes: bool = True) -> bytes:
        return f"334 {self.text}\r\n".encode("ascii")


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


def mechanisms(settings: Any) -> list[str]:
    mechs = ["PLAIN", "LOGIN"]
    if any(getattr(b, "supports_cram_md5", lambda s: False)(settings) for b in _backends):
        mechs.append("CRAM-MD5")
    return mechs


def auth_capability(session: "Session") -> list[str]:
    settings = session.settings
    if not auth_enabled(settings) or (tls_required(settings) and not session.tls_active):
        return []
    return ["AUTH " + " ".join(mechanisms(settings))]


# -- client exchanges ---------------------------------------------------------------------
def _decode(line: bytes) -> bytes:
    text = line.strip()
    if text == b"*":
        raise _Cancelled()
    if text == b"=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _BadBase64() from None


def _ask(session: "Session", challenge: bytes) -> bytes:
    session.reply_with(_Challenge(334, None, base64.b64encode(challenge).decode("ascii")))
    return _decode(session.read_line())


def _initial_or_ask(session: "Session", initial: str | None, challenge: bytes) -> bytes:
    if initial is not None:
        return _decode(initial.encode("ascii", "replace"))
    return _ask(session, challenge)


def _in_pool(func: Any, *args: Any) -> Any:
    return gevent.get_hub().threadpool.apply(func, args)


def _check_password(user: str, password: str, settings: Any, mechanism: str) -> bool | None:
    for backend in _backends:
        if getattr(backend, "takes_mechanism", False):  # e.g. AuthPlainParameters vs AuthLoginParameters
            verdict = backend.check_password(user, password, settings, mechanism=mechanism)
        else:
            verdict = backend.check_password(user, password, settings)
        if verdict is not None:
            return bool(verdict)
    return None


def _plain(session: "Session", initial: str | None) -> tuple[str, bool | None]:
    raw = _initial_or_ask(session, initial, b"")
    parts = raw.split(b"\x00")
    if len(parts) != 3:
        raise _BadBase64()
    authzid, authcid, password = (p.decode("utf-8", "replace") for p in parts)
    if authzid and authzid != authcid:
        return authcid, False  # no proxy authorization
    return authcid, _in_pool(_check_password, authcid, password, session.settings, "PLAIN")


def _login(session: "Session", initial: str | None) -> tuple[str, bool | None]:
    user = _initial_or_ask(session, initial, b"Username:").decode("utf-8", "replace")
    password = _ask(session, b"Password:").decode("utf-8", "replace")
    return user, _in_pool(_check_password, user, password, session.settings, "LOGIN")


def _cram_md5(session: "Session", initial: str | None) -> tuple[str, bool | None]:
    if initial is not None:
        raise _BadBase64()  # CRAM-MD5 has no initial response
    challenge = f"<{os.getpid()}.{time.time_ns()}.{os.urandom(6).hex()}@{session.settings.hostname}>"
    answer = _ask(session, challenge.encode("ascii")).decode("utf-8", "replace")
    user, _, digest = answer.rpartition(" ")
    if not user or len(digest) != 32:
        return user or "", False
    for backend in _backends:
        getter = getattr(backend, "cram_md5_key", None)
        key = getter(user, session.settings) if getter else None
        if key:
            expected = auth_backends.cram_md5_digest(key, challenge.encode("ascii"))
            return user, hmac.compare_digest(expected, digest.lower())
    return user, None


_MECHANISMS = {"PLAIN": _plain, "LOGIN": _login, "CRAM-MD5": _cram_md5}


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
    if mech not in _MECHANISMS or mech not in mechanisms(settings):
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
        user, verdict = _MECHANISMS[mech](session, words[1] if len(words) > 1 else None)
    except (IdleTimeout, SessionTimeout):
        log_smtp_auth(session, "", False, timeout=True)
        raise
    except (ClientGone, Shutdown):
        raise
    except _Cancelled:
        STATS["cancelled"] += 1
        session.reply_with(CANCELLED)
        return
    except _BadBase64:
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
    delay = min(MAX_DELAY, _failure_delay(settings) * 2 ** min(failures - 1, 16))
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
