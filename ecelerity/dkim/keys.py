"""Private signing keys: ``key = "/path/%{d}/%{s}.key"`` templates, loaded and checked.

Called by settings.py (at module load, so a missing or unreadable key is a
configuration error naming the stanza's file:line:col) and by service.py when a
template depends on the message's domain. Keys are cached by path and re-read when
the file's mtime changes; an RSA key is cached parsed (fastrsa.LoadedKey: PEM bytes
that also carry the OpenSSL key, so a signature neither re-parses nor uses dkimpy's
pure-Python RSA). Inline PEMs (Lua's keybuf) are cached by content (``from_pem``).
Never logs or returns key material in an error.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

from dkim.crypto import UnparsableKeyError

from .fastrsa import load_key

INLINE_KEYS_KEPT = 32  # distinct keybuf PEMs kept parsed (OpenSSL's key check is ~30 ms)


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
        self._inline: OrderedDict[tuple[bytes, str], bytes] = OrderedDict()

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
        pem = check_key(pem, path, digest)
        self._keys[path] = _Cached(mtime, pem)
        return pem

    def from_pem(self, pem: bytes, digest: str, where: str) -> bytes:
        """An inline key, checked and parsed once per distinct PEM (DkimKeyError if unusable)."""
        cache_key = (bytes(pem), digest)
        loaded = self._inline.get(cache_key)
        if loaded is None:
            loaded = check_key(pem, where, digest)
            self._inline[cache_key] = loaded
            if len(self._inline) > INLINE_KEYS_KEPT:
                self._inline.popitem(last=False)
        else:
            self._inline.move_to_end(cache_key)
        return loaded


def check_key(pem: bytes, where: str, digest: str = "rsa-sha256") -> bytes:
    """The key to sign with (RSA: a fastrsa.LoadedKey when OpenSSL reads it too);
    refuses a key dkimpy could not sign with (RSA PEM; ed25519 is a base64 seed)."""
    if digest.startswith("ed25519"):
        if not pem.strip():
            raise DkimKeyError(f"DKIM key '{where}' is empty")
        return pem
    try:
        return load_key(pem)
    except (UnparsableKeyError, ValueError, TypeError, IndexError) as exc:
        raise DkimKeyError(f"DKIM key '{where}' is not a usable RSA private key ({exc})") from None
