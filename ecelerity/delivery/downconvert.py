"""8-bit to 7-bit down-conversion for peers that did not advertise 8BITMIME (RFC 6152 §3).

Who calls it: delivery/client.py, just before MAIL FROM, when the message has bytes
above 127, the peer lacks 8BITMIME and ``transform_8bitmime_content`` is not ``no``.
Works on core/mime.py's lazy MIME tree: only the leaf parts holding 8-bit bytes are
re-encoded (``text/*`` and other textual leaves to quoted-printable, anything else to
base64) and get a new Content-Transfer-Encoding; a multipart or message/rfc822 whose
own Content-Transfer-Encoding said 8bit/binary is relabelled 7bit once its children
are converted. Every other byte (headers, preambles, boundaries, untouched parts) is
copied verbatim. Headers with raw 8-bit bytes cannot be re-encoded and are left as
they are.

Modes (``transform_8bitmime_content``): ``ifneeded`` converts what it can and sends
the result; ``strict`` converts, then refuses (ConversionFailed -> a permanent
failure) if any 8-bit byte is left (in headers, in a multipart without boundary...);
``strip`` clears the high bit of every byte of the message (contrary to RFC 6152,
kept for Momentum compatibility). Momentum's page describes ``ifneeded`` as
"stripping the 8th bit as per RFC 1652"; RFC 1652 asks for a MIME conversion, which is
what ``ifneeded`` does here (nothing is lost). Never does I/O, never raises anything
but ConversionFailed.
"""
from __future__ import annotations

import binascii

from ecelerity.core.mime import Part

MODES = ("no", "ifneeded", "strict", "strip")
_STRIP = bytes(range(128)) * 2
_UNENCODED = ("", "7bit", "8bit", "binary")
_TEXTUAL = ("text/", "message/delivery-status", "message/disposition-notification",
            "application/json", "application/xml", "application/javascript")


class ConversionFailed(Exception):
    """``strict``: 8-bit data is left after conversion (the reason says where)."""


def needs_downconversion(data: bytes) -> bool:
    return not data.isascii()


def downconvert(data: bytes, mode: str) -> bytes:
    """The message ``data`` (headers + body) made 7-bit per ``mode``; see the docstring."""
    if mode == "no" or data.isascii():
        return data
    if mode == "strip":
        return data.translate(_STRIP)
    root = Part(data)
    converted = root.render() if _convert(root) else data
    if mode == "strict" and not converted.isascii():
        raise ConversionFailed(_leftover(root))
    return converted


def _convert(part: Part) -> bool:
    """Re-encode the 8-bit leaves under ``part``; True when anything changed."""
    if part.maintype == "multipart" or part.content_type == "message/rfc822":
        changed = False
        for child in part.children:
            changed = _convert(child) or changed
        if changed and part.cte in ("8bit", "binary"):
            part.headers.replace("Content-Transfer-Encoding", "7bit")
        return changed
    raw = part.raw_body()
    if raw.isascii() or part.cte not in _UNENCODED:
        return False
    eol = part.headers.eol
    if part.content_type.startswith(_TEXTUAL):
        encoded, cte = binascii.b2a_qp(raw, istext=True), "quoted-printable"
        if b"\r\n" not in encoded and eol == b"\r\n":
            encoded = encoded.replace(b"\n", eol)
    else:
        encoded, cte = _base64_lines(raw, eol), "base64"
    part.headers.replace("Content-Transfer-Encoding", cte)
    part.set_raw_body(encoded)
    return True


def _base64_lines(raw: bytes, eol: bytes) -> bytes:
    chunk = 57   # 76 characters of base64 per line (RFC 2045 §6.8)
    return b"".join(binascii.b2a_base64(raw[i:i + chunk], newline=False) + eol
                    for i in range(0, len(raw), chunk))


def _leftover(root: Part) -> str:
    for part in root.walk():
        if not part.headers.render().isascii():
            return "8-bit data in headers cannot be converted to 7 bits"
    return "8-bit data is left after conversion to 7 bits"
