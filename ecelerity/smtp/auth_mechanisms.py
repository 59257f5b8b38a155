"""The SASL exchanges of SMTP AUTH (PLAIN, LOGIN, CRAM-MD5) and the credential backends.

Used by smtp/auth.py only: ``MECHANISMS[name](session, initial_response)`` runs one
exchange over the session (334 challenges, base64 answers) and returns ``(user,
verdict)``, the verdict being the first definite answer of the backends registered
with ``register_backend`` (True / False; None when none knows the user). The default
backend, smtp/auth_backends.ConfigUsersBackend, reads ``auth_users``; Lua's
``msys.auth`` adds one through smtp/auth.py's re-export. A client's ``*`` raises
Cancelled, bad base64 BadBase64 (smtp/auth.py answers both). Password checks run in
gevent's threadpool (never on the hub); a password or response is never logged.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import os
import time
from typing import TYPE_CHECKING, Any

import gevent

from . import auth_backends
from .replies import Reply

if TYPE_CHECKING:
    from .session import Session

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


class Cancelled(Exception):
    """The client answered a challenge with ``*`` (RFC 4954)."""


class BadBase64(Exception):
    """An answer (or initial response) that is not base64, or a malformed PLAIN token."""


class _Challenge(Reply):
    """``334 <base64>``: RFC 4954 wants the space even when the challenge is empty."""

    def wire(self, enhanced_codes: bool = True) -> bytes:
        return f"334 {self.text}\r\n".encode("ascii")


def mechanisms(settings: Any) -> list[str]:
    mechs = ["PLAIN", "LOGIN"]
    if any(getattr(b, "supports_cram_md5", lambda s: False)(settings) for b in _backends):
        mechs.append("CRAM-MD5")
    return mechs


def _decode(line: bytes) -> bytes:
    text = line.strip()
    if text == b"*":
        raise Cancelled()
    if text == b"=":
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadBase64() from None


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
        raise BadBase64()
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
        raise BadBase64()  # CRAM-MD5 has no initial response
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


MECHANISMS = {"PLAIN": _plain, "LOGIN": _login, "CRAM-MD5": _cram_md5}
