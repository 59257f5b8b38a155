"""dkim/fastrsa.py: OpenSSL signs exactly what dkimpy's own RSA signs, through dkimpy.

The reference is dkimpy itself: the same message, key and t= signed with the key as
plain PEM bytes (dkimpy parses it and runs its pure-Python RSA) and as a LoadedKey
(OpenSSL) must give the same DKIM-Signature byte for byte (RSASSA-PKCS1-v1_5 is
deterministic). The pins check that this dkimpy still looks the two substituted
names up at call time, so a dkimpy upgrade that moves them fails here, loudly.
"""
from __future__ import annotations

import re
import time

import dkim
import gevent
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ecelerity.dkim import fastrsa
from ecelerity.dkim.keys import DkimKeyError, KeyCache, check_key
from ecelerity.dkim.signer import SignRequest, sign

MESSAGE = (b"From: Alice <a@example.test>\r\nTo: b@dest.test\r\nSubject: same bytes\r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nHello  there\r\n\r\n")
_KEYS: dict[tuple[int, str], bytes] = {}


def _pem(bits: int, fmt: str = "pkcs1") -> bytes:
    if (bits, fmt) not in _KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        form = serialization.PrivateFormat.TraditionalOpenSSL if fmt == "pkcs1" \
            else serialization.PrivateFormat.PKCS8
        _KEYS[bits, fmt] = key.private_bytes(serialization.Encoding.PEM, form,
                                             serialization.NoEncryption())
    return _KEYS[bits, fmt]


def _same_second(sign_one, sign_two) -> tuple[bytes, bytes]:
    """Both signatures made within one second of the clock (t= equal), retried if not."""
    for _ in range(5):
        one, two = sign_one(), sign_two()
        if re.search(rb"t=(\d+)", one)[1] == re.search(rb"t=(\d+)", two)[1]:
            return one, two
    raise AssertionError("could not sign twice within one second")


def _record(pem: bytes) -> bytes:
    public = serialization.load_pem_private_key(pem, None).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.mark.parametrize("bits, fmt, digest, canon", [
    (1024, "pkcs1", "rsa-sha256", "relaxed"),
    (2048, "pkcs1", "rsa-sha256", "simple"),
    (2048, "pkcs8", "rsa-sha256", "relaxed"),
    (1024, "pkcs1", "rsa-sha1", "simple"),
])
def test_openssl_signature_equals_dkimpys_byte_for_byte(bits, fmt, digest, canon):
    pem = _pem(bits, fmt)
    loaded = check_key(pem, "test", digest)
    assert isinstance(loaded, fastrsa.LoadedKey) and loaded == pem
    pure = SignRequest("example.test", "s1", pem, canon, canon, digest=digest)
    fast = SignRequest("example.test", "s1", loaded, canon, canon, digest=digest)
    want, got = _same_second(lambda: sign(MESSAGE, pure), lambda: sign(MESSAGE, fast))
    assert got == want
    assert dkim.verify(got + MESSAGE, dnsfunc=lambda name, timeout=5: _record(pem))


def test_a_loaded_key_signs_through_openssl_and_a_plain_pem_does_not():
    class Counting(fastrsa.FastRsaKey):
        calls = 0

        def sign_digest(self, hash_obj):
            Counting.calls += 1
            return super().sign_digest(hash_obj)

    loaded = check_key(_pem(1024), "test")
    counting = Counting(loaded.parsed)
    counting.openssl, counting.bits = loaded.parsed.openssl, loaded.parsed.bits
    loaded.parsed = counting
    sign(MESSAGE, SignRequest("example.test", "s1", loaded))
    assert Counting.calls == 1
    sign(MESSAGE, SignRequest("example.test", "s1", _pem(1024)))  # dkimpy's own path
    assert Counting.calls == 1


def test_this_dkimpy_looks_the_substituted_names_up_at_call_time():
    fastrsa.install()
    assert "parse_pem_private_key" in dkim.DKIM.sign.__code__.co_names
    assert "RSASSA_PKCS1_v1_5_sign" in dkim.DKIM.gen_header.__code__.co_names
    assert dkim.parse_pem_private_key is fastrsa._parse_pem_private_key
    assert dkim.RSASSA_PKCS1_v1_5_sign is fastrsa._rsassa_sign
    fastrsa.install()  # idempotent: the originals stay dkimpy's
    assert fastrsa._originals["RSASSA_PKCS1_v1_5_sign"] is dkim.crypto.RSASSA_PKCS1_v1_5_sign


def test_unusable_keys_are_refused_as_before():
    with pytest.raises(DkimKeyError, match="'k.pem' is not a usable RSA private key"):
        check_key(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                  "k.pem")


def test_key_cache_keeps_the_parsed_key_until_the_file_changes(tmp_path):
    path = tmp_path / "s1.key"
    path.write_bytes(_pem(1024))
    cache = KeyCache()
    first = cache.load(str(path))
    assert isinstance(first, fastrsa.LoadedKey) and cache.load(str(path)) is first
    path.write_bytes(_pem(2048))
    stat = path.stat()
    import os
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = cache.load(str(path))
    assert second is not first and second.parsed.bits == 2048


def test_inline_keys_are_parsed_once_per_distinct_pem():
    cache = KeyCache()
    one = cache.from_pem(_pem(1024), "rsa-sha256", "keybuf")
    assert cache.from_pem(bytes(_pem(1024)), "rsa-sha256", "keybuf") is one
    with pytest.raises(DkimKeyError, match="keybuf"):
        cache.from_pem(b"not a key", "rsa-sha256", "keybuf")


def test_big_keys_sign_in_the_threadpool_so_other_greenlets_run(monkeypatch):
    """With the threshold at 2048 bits, a greenlet signing in a tight loop yields at
    every signature; signing on the hub would leave the ticker no turn at all."""
    monkeypatch.setattr(fastrsa, "THREADPOOL_MIN_BITS", 2048)
    loaded = check_key(_pem(2048), "test")
    record = _record(_pem(2048))
    ticks: list[float] = []

    def ticker():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0)

    def batch():
        return [sign(MESSAGE, SignRequest("example.test", "s1", loaded)) for _ in range(20)]

    tick = gevent.spawn(ticker)
    gevent.sleep(0)
    ticks.clear()
    signatures = gevent.spawn(batch).get(timeout=30)
    tick.kill()
    assert len(ticks) >= 20
    for field in (signatures[0], signatures[-1]):
        assert dkim.verify(field + MESSAGE, dnsfunc=lambda name, timeout=5: record)
    monkeypatch.setattr(fastrsa, "THREADPOOL_MIN_BITS", 1 << 20)  # now inline: no yield
    tick = gevent.spawn(ticker)
    gevent.sleep(0)
    ticks.clear()
    assert len(gevent.spawn(batch).get(timeout=30)) == 20
    tick.kill()
    assert len(ticks) < 5  # only the turns around the batch, none inside it
