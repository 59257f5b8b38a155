"""ecelerity/smtp/cram_md5.py: resumable MD5 and the {CRAM-MD5} value, checked against
hashlib and hmac (the references), plus the re-export auth_backends keeps."""
from __future__ import annotations

import hashlib
import hmac

from ecelerity.smtp import auth_backends, cram_md5


def test_resuming_after_a_block_equals_hashing_the_whole_input():
    first, rest = b"k" * 64, b"the rest of the input, longer than one block " * 3
    state = cram_md5._md5_compress(cram_md5.MD5_IV, first)
    assert cram_md5.md5_resume(state, rest, 64) == hashlib.md5(first + rest).digest()


def test_a_long_password_is_hashed_first_as_hmac_requires():
    password, challenge = "p" * 100, b"<1896.697170952@postoffice.example.net>"
    key = cram_md5.cram_md5_key(password)
    assert cram_md5.cram_md5_digest(key, challenge) == hmac.new(
        password.encode(), challenge, hashlib.md5).hexdigest()
    assert password.encode().hex() not in key


def test_auth_backends_still_exports_the_same_functions():
    assert auth_backends.cram_md5_key is cram_md5.cram_md5_key
    assert auth_backends.cram_md5_digest is cram_md5.cram_md5_digest
    assert auth_backends.md5_resume is cram_md5.md5_resume and auth_backends.MD5_IV == cram_md5.MD5_IV
