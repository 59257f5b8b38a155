"""msys.base64.*, msys.qp.*, msys.idn.*: pure encoders and decoders.

Installed by libraries.py. Strings in and out are Lua strings (bytes).
  base64.encode(s) / base64.decode(s)    (decode ignores whitespace; nil, err on junk)
  qp.encode(s) / qp.decode(s)            (RFC 2045 quoted-printable)
  idn.to_idn(domain) -> "xn--..." ASCII form; idn.to_utf8(domain) -> Unicode form
      (IDNA 2003 via Python's encodings.idna; nil, err when not convertible)
Never does I/O.
"""
from __future__ import annotations

import base64
import binascii
import quopri
from typing import Any


def b64_encode(runtime: Any, data: bytes) -> bytes:
    return base64.b64encode(bytes(data))


def b64_decode(runtime: Any, data: bytes) -> Any:
    try:
        return base64.b64decode(b"".join(bytes(data).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        return None, f"invalid base64: {exc}".encode()


def qp_encode(runtime: Any, data: bytes) -> bytes:
    return quopri.encodestring(bytes(data))


def qp_decode(runtime: Any, data: bytes) -> bytes:
    return quopri.decodestring(bytes(data))


def to_idn(runtime: Any, domain: bytes) -> Any:
    try:
        return bytes(domain).decode("utf-8").encode("idna")
    except (UnicodeError, ValueError) as exc:
        return None, f"cannot convert to IDN: {exc}".encode()


def to_utf8(runtime: Any, domain: bytes) -> Any:
    try:
        return bytes(domain).decode("idna").encode("utf-8")
    except (UnicodeError, ValueError) as exc:
        return None, f"cannot convert from IDN: {exc}".encode()


FUNCTIONS = {
    "msys.base64.encode": b64_encode, "msys.base64.decode": b64_decode,
    "msys.qp.encode": qp_encode, "msys.qp.decode": qp_decode,
    "msys.idn.to_idn": to_idn, "msys.idn.to_utf8": to_utf8,
}
