"""Server TLS contexts from the inbound TLS options: parsing, validation, building.

Called by smtp/tls.py (which caches the contexts per profile and file stamps) and,
through smtp/tls.py's re-exports, by http/https.py. ``profile_of(settings)`` reads
``tls_certificate``, ``tls_key``, ``tls_ciphers``, ``tls_protocols``, ``tls_client_ca``
and ``tls_verify_mode`` from a session's settings (None when no certificate/key);
``build_context(profile)`` makes a fresh gevent SSLContext from it.

``tls_protocols``: names ``SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3`` and ``ALL``, separated
by ``:``, ``,`` or blanks, each optionally prefixed ``+`` (enable), ``-`` or ``!``
(disable). A list that enables something starts from nothing, a list that only
disables starts from the default (TLSv1.2+): ``+TLSv1.2:+TLSv1.3``, ``ALL:-TLSv1``,
``!TLSv1.2`` (TLSv1.3 only). SSLv3 is never used. Gaps are closed (min..max).
``tls_verify_mode``: ``none`` | ``optional`` | ``require`` (with a CA and no mode:
``optional``; a mode other than none needs ``tls_client_ca``).

Every problem is a TLSConfigError naming the option and the file; nothing here does
I/O on a socket, caches, or logs.
"""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Any

from gevent import ssl as gssl

_VERSIONS = {"sslv3": None, "tlsv1": ssl.TLSVersion.TLSv1, "tlsv1.0": ssl.TLSVersion.TLSv1,
             "tlsv1.1": ssl.TLSVersion.TLSv1_1, "tlsv1.2": ssl.TLSVersion.TLSv1_2,
             "tlsv1.3": ssl.TLSVersion.TLSv1_3}
_ORDER = [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]
DEFAULT_VERSIONS = frozenset({ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3})
_VERIFY_MODES = {"none": ssl.CERT_NONE, "no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL,
                 "request": ssl.CERT_OPTIONAL, "ca": ssl.CERT_OPTIONAL,
                 "require": ssl.CERT_REQUIRED, "required": ssl.CERT_REQUIRED}


class TLSConfigError(ValueError):
    """A TLS option cannot be used (bad protocol list, unreadable certificate...)."""


@dataclass(frozen=True)
class TLSProfile:
    """What a server SSLContext is built from (the cache key, with the files' stamps)."""

    certificate: str
    key: str
    ciphers: str | None = None
    protocols: str | None = None
    client_ca: str | None = None
    verify_mode: str | None = None


def parse_protocols(text: str | None) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """``tls_protocols`` -> (minimum, maximum) version. Raises TLSConfigError."""
    if text is None or not str(text).strip():
        enabled = set(DEFAULT_VERSIONS)
    else:
        tokens = str(text).replace(",", ":").replace(" ", ":").split(":")
        tokens = [t for t in tokens if t]
        adds = any(not t.startswith(("-", "!")) for t in tokens)
        enabled = set() if adds else set(DEFAULT_VERSIONS)
        for token in tokens:
            sign, name = (token[0], token[1:]) if token[0] in "+-!" else ("+", token)
            name = name.lower()
            if name == "all":
                versions = set(_ORDER)
            elif name in _VERSIONS:
                versions = {_VERSIONS[name]} if _VERSIONS[name] is not None else set()
            else:
                raise TLSConfigError(f"tls_protocols: unknown protocol {token!r} "
                                     f"(known: SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 ALL)")
            enabled = enabled | versions if sign == "+" else enabled - versions
    if not enabled:
        raise TLSConfigError(f"tls_protocols {text!r} enables no usable protocol")
    ordered = [v for v in _ORDER if v in enabled]
    return ordered[0], ordered[-1]


def file_stamp(path: str | None) -> tuple[int, int] | None:
    """(mtime_ns, size) of a certificate/key/CA file, part of smtp/tls.py's cache key."""
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError as exc:
        raise TLSConfigError(f"cannot read {path}: {exc.strerror}") from None
    return st.st_mtime_ns, st.st_size


def build_context(profile: TLSProfile) -> ssl.SSLContext:
    """A new server SSLContext for ``profile`` (uncached: smtp/tls.py caches); raises
    TLSConfigError with the option and file at fault."""
    minimum, maximum = parse_protocols(profile.protocols)
    ctx = gssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
        ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
        if profile.ciphers:
            ctx.set_ciphers(profile.ciphers)
        ctx.load_cert_chain(profile.certificate, profile.key)
    except (ssl.SSLError, ValueError) as exc:
        raise TLSConfigError(f"tls_certificate {profile.certificate} / tls_key {profile.key}: {exc}") from None
    except OSError as exc:
        raise TLSConfigError(f"cannot load {profile.certificate} / {profile.key}: {exc.strerror or exc}") from None
    mode_name = (profile.verify_mode or ("optional" if profile.client_ca else "none")).strip().lower()
    if mode_name not in _VERIFY_MODES:
        raise TLSConfigError(f"tls_verify_mode: {profile.verify_mode!r} is not one of none, optional, require")
    mode = _VERIFY_MODES[mode_name]
    if mode != ssl.CERT_NONE:
        if not profile.client_ca:
            raise TLSConfigError(f"tls_verify_mode = {mode_name} needs tls_client_ca")
        try:
            ctx.load_verify_locations(cafile=profile.client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise TLSConfigError(f"tls_client_ca {profile.client_ca}: {exc}") from None
    ctx.verify_mode = mode
    return ctx


def profile_of(settings: Any) -> TLSProfile | None:
    """The TLS profile a session's settings describe, or None when TLS is not configured."""
    cert = getattr(settings, "tls_certificate", None)
    key = getattr(settings, "tls_key", None)
    if not cert or not key:
        return None
    return TLSProfile(str(cert), str(key), _opt_str(settings, "tls_ciphers"),
                      _opt_str(settings, "tls_protocols"), _opt_str(settings, "tls_client_ca"),
                      _opt_str(settings, "tls_verify_mode"))


def _opt_str(settings: Any, name: str) -> str | None:
    value = getattr(settings, name, None)
    return None if value in (None, "") else str(value)
