"""OpenSSL RSA (``cryptography``) under dkimpy's signatures, for keys we loaded.

dkimpy's ``DKIM.sign`` takes PEM bytes and signs with its own pure-Python RSA
(``dkim.crypto.RSASSA_PKCS1_v1_5_sign``: 1.1 ms per 1024-bit, 6-9 ms per 2048-bit
signature, holding the GIL on the hub). Its API takes no signer object, so
``install()`` replaces exactly two names in the ``dkim`` module namespace, the ones
``DKIM.sign``/``DKIM.gen_header`` look up at call time, by dispatchers that divert
only our own objects and hand everything else to dkimpy's originals unchanged:

- ``parse_pem_private_key(data)``: a ``LoadedKey`` (PEM bytes we parsed once, see
  keys.py) returns its cached ``FastRsaKey`` instead of re-parsing the ASN.1;
- ``RSASSA_PKCS1_v1_5_sign(hash, pk)``: a ``FastRsaKey`` signs the digest with
  OpenSSL (PKCS#1 v1.5 is deterministic: the same bytes dkimpy computes).

Canonicalisation, header selection and the DKIM-Signature field stay dkimpy's.
Keys of ``THREADPOOL_MIN_BITS`` or more sign in gevent's threadpool when called from
a greenlet (cryptography releases the GIL around the OpenSSL call), so the hub keeps
serving. Called by keys.py (``load_key``) and signer.py (``install`` at import).
Never changes dkimpy's behaviour for keys it did not get from ``load_key``, never
logs key material; a dkimpy without the two names raises at install (tests pin it).
"""
from __future__ import annotations

import threading
from typing import Any

import dkim
import dkim.crypto
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from gevent import get_hub, getcurrent

THREADPOOL_MIN_BITS = 2048
_HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}
_PATCHED = ("parse_pem_private_key", "RSASSA_PKCS1_v1_5_sign")
_originals: dict[str, Any] = {}
_installed = False
_install_lock = threading.Lock()


class FastRsaKey(dict):
    """dkimpy's parsed private-key dict (same fields) that also holds the OpenSSL key."""

    openssl: rsa.RSAPrivateKey
    bits: int

    def sign_digest(self, hash_obj: Any) -> bytes:
        """RSASSA-PKCS1-v1_5 over ``hash_obj.digest()`` (dkimpy's HashThrough)."""
        algorithm = _HASHES[hash_obj.name.lower()]()
        digest = hash_obj.digest()
        if self.bits >= THREADPOOL_MIN_BITS and _in_greenlet():
            return get_hub().threadpool.apply(_sign, (self.openssl, digest, algorithm))
        return _sign(self.openssl, digest, algorithm)


class LoadedKey(bytes):
    """PEM bytes (usable wherever a PEM is) with the key parsed once: ``parsed``."""

    parsed: FastRsaKey


def _sign(key: rsa.RSAPrivateKey, digest: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
    try:
        return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(algorithm))
    except ValueError:  # OpenSSL: digest + DigestInfo do not fit the modulus
        raise dkim.crypto.DigestTooLargeError() from None


def _in_greenlet() -> bool:
    """True unless we run in the hub greenlet itself (which must never block)."""
    return getcurrent() is not get_hub()


def load_key(pem: bytes) -> bytes:
    """``pem`` as a LoadedKey when OpenSSL and dkimpy both read it as RSA, else unchanged.

    Raises dkimpy's UnparsableKeyError (or ValueError) for a PEM dkimpy cannot use,
    exactly as signing with it would. Costs up to tens of ms (OpenSSL checks the
    key): callers cache the result (keys.KeyCache)."""
    install()
    parsed = _originals["parse_pem_private_key"](pem)
    try:
        key = serialization.load_pem_private_key(bytes(pem), password=None)
    except (ValueError, TypeError):
        return pem  # dkimpy reads it, OpenSSL does not: dkimpy signs it, slowly
    if not isinstance(key, rsa.RSAPrivateKey) or key.public_key().public_numbers().n \
            != parsed["modulus"]:
        return pem
    fast = FastRsaKey(parsed)
    fast.openssl, fast.bits = key, key.key_size
    loaded = LoadedKey(pem)
    loaded.parsed = fast
    return loaded


def _parse_pem_private_key(data: Any) -> Any:
    if isinstance(data, LoadedKey):
        return data.parsed
    return _originals["parse_pem_private_key"](data)


def _rsassa_sign(hash_obj: Any, private_key: Any) -> Any:
    if isinstance(private_key, FastRsaKey):
        return private_key.sign_digest(hash_obj)
    return _originals["RSASSA_PKCS1_v1_5_sign"](hash_obj, private_key)


_REPLACEMENTS = {"parse_pem_private_key": _parse_pem_private_key,
                 "RSASSA_PKCS1_v1_5_sign": _rsassa_sign}


def install() -> None:
    """Put the dispatchers into ``dkim``'s namespace (idempotent, thread-safe)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        missing = [name for name in _PATCHED if not callable(getattr(dkim, name, None))]
        if missing:
            raise RuntimeError(f"dkimpy {getattr(dkim, '__version__', '?')} has no "
                               f"{', '.join(missing)}: ecelerity/dkim/fastrsa.py needs updating")
        _originals.update((name, getattr(dkim, name)) for name in _PATCHED)
        for name in _PATCHED:
            setattr(dkim, name, _REPLACEMENTS[name])
        _installed = True


def pure_python_sign(hash_obj: Any, private_key: dict) -> bytes:
    """dkimpy's own RSA signature (the reference the tests compare against)."""
    install()
    return bytes(_originals["RSASSA_PKCS1_v1_5_sign"](hash_obj, dict(private_key)))
