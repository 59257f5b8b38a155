"""Private signing keys: ``key = "/path/%{d}/%{s}.key"`` templates, loaded and checked.

Called by settings.py (at module load, so a missing or unreadable key is a
configuration error naming the stanza's file:line:col) and by service.py when a
template depends on the message's domain. Keys are cached by path and re-read when
the file's mtime changes. Never logs or returns key material in an error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from dkim.crypto import UnparsableKeyError, parse_pem_private_key


class DkimKeyError(Exception):
    """A key file that cannot be used: the text says which file and why."""


def expand_key_path(template: str, *, domain: str, selector: str) -> str:
    """``%{d}`` -> signing domain, ``%{s}`` -> selector (Momentum's key path macros)."""
    return template.replace("%{d}", domain).replace("%{s}", selector)


def needs_message(template: str) -> bool:
    """True when the template names the domain, known only once a message is signed."""
    return "%{d}" in template


@dataclass
class _Cached:
    mtime: float
    pem: bytes


class KeyCache:
    """PEM keys by path; ``load`` raises DkimKeyError with the path and the reason."""

    def __init__(self) -> None:
        self._keys: dict[str, _Cached] = {}

    def load(self, path: str, digest: str = "rsa-sha256") -> bytes:
        try:
            mtime = os.stat(path).st_mtime
        except OSError as exc:
            raise DkimKeyError(f"cannot read DKIM key file '{path}': {exc.strerror}") from None
        cached = self._keys.get(path)
        if cached is not None and cached.mtime == mtime:
            return cached.pem
        try:
            with open(path, "rb") as handle:
                pem = handle.read()
        except OSError as exc:
            raise DkimKeyError(f"cannot read DKIM key file '{path}': {exc.strerror}") from None
        check_key(pem, path, digest)
        self._keys[path] = _Cached(mtime, pem)
        return pem


def check_key(pem: bytes, where: str, digest: str = "rsa-sha256") -> None:
    """Refuse a key dkimpy could not sign with (RSA PEM; ed25519 is a base64 seed)."""
    if digest.startswith("ed25519"):
        if not pem.strip():
            raise DkimKeyError(f"DKIM key '{where}' is empty")
        return
    try:
        parse_pem_private_key(pem)
    except (UnparsableKeyError, ValueError, TypeError, IndexError) as exc:
        raise DkimKeyError(f"DKIM key '{where}' is not a usable RSA private key ({exc})") from None
