"""Sign one message with dkimpy: the DKIM-Signature header field to prepend.

Called by service.py (the module's data_spool hook, Lua's msys.validate.opendkim.sign
and Sieve's ec_dkim_sign). ``responsible_domain`` is Momentum's: the domain of the
Sender: header, else of From:. Pure computation on bytes: never does I/O (the key
arrives as PEM bytes; a keys.KeyCache key is a fastrsa.LoadedKey, whose RSA runs in
OpenSSL -- importing this module installs fastrsa's dispatchers into dkimpy) and
never changes the message itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from email.utils import getaddresses

import dkim

from ..smtp.headers import header_values
from . import fastrsa

fastrsa.install()


class SigningError(Exception):
    """dkimpy refused to sign (bad key, header list without From ...)."""


@dataclass(frozen=True)
class SignRequest:
    """What one signature needs; ``headerlist`` None means dkimpy's recommended list."""

    domain: str
    selector: str
    key_pem: bytes
    header_canon: str = "relaxed"
    body_canon: str = "relaxed"
    headerlist: tuple[str, ...] | None = None
    digest: str = "rsa-sha256"
    identity: str | None = None


def responsible_domain(header_block: bytes) -> str:
    """Domain of the first Sender: address, else of the first From: address ('' if none)."""
    for name in ("sender", "from"):
        values = header_values(header_block, name)
        if not values:
            continue
        for _display, address in getaddresses(values):
            _, at, domain = address.rpartition("@")
            if at and domain:
                return domain.strip().rstrip(">").lower()
    return ""


def sign(message: bytes, request: SignRequest) -> bytes:
    """The ``DKIM-Signature: ...\\r\\n`` field (folded, CRLF) for ``message`` (CRLF lines)."""
    include = None
    if request.headerlist is not None:
        include = [name.encode() for name in request.headerlist]
        if b"from" not in include:
            include.insert(0, b"from")  # RFC 6376 5.4: From MUST be signed
    try:
        field = dkim.sign(
            message, request.selector.encode(), request.domain.encode(), request.key_pem,
            identity=request.identity.encode() if request.identity else None,
            canonicalize=(request.header_canon.encode(), request.body_canon.encode()),
            include_headers=include, signature_algorithm=request.digest.encode(),
            linesep=b"\r\n")
    except dkim.DKIMException as exc:
        raise SigningError(f"d={request.domain} s={request.selector}: {exc}") from None
    return field
