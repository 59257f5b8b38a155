"""CRAM-MD5 without the password: MD5 with a resumable state, and the ``{CRAM-MD5}``
value (the two HMAC-MD5 chaining states) that answers challenges.

Who calls it: smtp/auth_backends.py (re-exported there: ``cram_md5_key`` makes a
configuration entry, ``cram_md5_digest`` checks an AUTH CRAM-MD5 answer, through
smtp/auth_mechanisms.py). The stored value is what Dovecot keeps: enough to compute
HMAC-MD5(password, challenge), never the password itself. Pure functions: no I/O, no
logging, never sees a plaintext password except inside ``cram_md5_key``.
"""
from __future__ import annotations

import hashlib
import math
import struct

_SHIFTS = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4
_K = [int(abs(math.sin(i + 1)) * 2 ** 32) & 0xFFFFFFFF for i in range(64)]
MD5_IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)


def _rotl(x: int, c: int) -> int:
    return ((x << c) | (x >> (32 - c))) & 0xFFFFFFFF


def _md5_compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    words = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | ~d), (7 * i) % 16
        f = (f + a + _K[i] + words[g]) & 0xFFFFFFFF
        a, d, c = d, c, b
        b = (b + _rotl(f, _SHIFTS[i])) & 0xFFFFFFFF
    return ((state[0] + a) & 0xFFFFFFFF, (state[1] + b) & 0xFFFFFFFF,
            (state[2] + c) & 0xFFFFFFFF, (state[3] + d) & 0xFFFFFFFF)


def md5_resume(state: tuple[int, int, int, int], data: bytes, already: int) -> bytes:
    """MD5 digest of (``already`` bytes that led to ``state``) + ``data``; already % 64 == 0."""
    total = already + len(data)
    padded = data + b"\x80" + b"\x00" * ((55 - total) % 64) + struct.pack("<Q", (total * 8) & (2 ** 64 - 1))
    for offset in range(0, len(padded), 64):
        state = _md5_compress(state, padded[offset:offset + 64])
    return struct.pack("<4I", *state)


def cram_md5_key(password: str) -> str:
    """The ``{CRAM-MD5}`` value for ``password``: inner and outer MD5 states, 64 hex digits."""
    key = password.encode("utf-8")
    if len(key) > 64:
        key = hashlib.md5(key).digest()
    key = key.ljust(64, b"\x00")
    inner = _md5_compress(MD5_IV, bytes(k ^ 0x36 for k in key))
    outer = _md5_compress(MD5_IV, bytes(k ^ 0x5C for k in key))
    return struct.pack("<8I", *inner, *outer).hex()


def cram_md5_digest(stored_hex: str, challenge: bytes) -> str:
    """HMAC-MD5(password, challenge) in hex, computed from a ``{CRAM-MD5}`` value."""
    words = struct.unpack("<8I", bytes.fromhex(stored_hex))
    inner = md5_resume(words[:4], challenge, 64)
    return md5_resume(words[4:], inner, 64).hex()
