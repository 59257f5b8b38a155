"""Repairing a received message whose lines exceed rfc2822_max_line_length ("fix").

Called by smtp/accept.py, only when the DATA reader flagged a line longer than the
session's ``line_limit`` and its ``line_action`` is "fix" (settings.py explains how
the two Momentum options combine). Momentum "breaks up" such lines; a bare CRLF
inserted into text changes what the recipient reads, so we repair in the way that
keeps the decoded content, and fall back to breaking only where nothing else can:

- a leaf part (or a single-part message) in 7bit / 8bit / binary / no encoding,
  of any type but multipart/* and message/* (RFC 2046 forbids encoding those), is
  re-encoded quoted-printable and its Content-Transfer-Encoding set accordingly
  (MIME-Version: 1.0 is added to a top-level message lacking it): soft line breaks,
  the decoded bytes are exactly the original ones;
- a quoted-printable part with long lines is decoded and re-encoded (same bytes);
- a base64 part with long lines is re-wrapped at 76 characters (base64 decoders
  ignore line breaks, so again the same bytes);
- a header field line is folded at the last space or tab before the limit (RFC 5322
  folding; the unfolded value is unchanged); a field with no such place is cut at
  the limit with CRLF + space (unfolding then adds one space);
- whatever is still too long (a multipart preamble or epilogue, a message/* body)
  is broken with a bare CRLF every ``limit`` bytes: Momentum's behaviour.

Untouched parts keep their bytes (core/mime.py renders only dirty parts). Never
reads configuration, never does I/O, never raises on malformed MIME.
"""
from __future__ import annotations

import binascii
import re

from ..core.message import Message
from ..core.mime import Part

__all__ = ["MIN_FIX_LIMIT", "fix_long_lines", "longest_line"]

_BASE64_LINE = 76
MIN_FIX_LIMIT = 78
_LINES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")


def longest_line(data: bytes) -> int:
    """Length of the longest line of ``data``, line terminators (CRLF, LF, CR) not counted."""
    return max(map(len, data.splitlines()), default=0)


def fix_long_lines(data: bytes, limit: int) -> bytes:
    """``data`` with every line at most ``limit`` bytes long (see the module docstring).

    A limit below 78 (RFC 5322's recommended line length) is raised to 78 for repairs:
    shorter lines cannot hold standard fields like our own Content-Transfer-Encoding
    without folding them where MIME parsers misread the value."""
    if limit <= 0 or longest_line(data) <= limit:
        return data
    limit = max(limit, MIN_FIX_LIMIT)
    if longest_line(data) <= limit:
        return data
    message = Message(data)
    root = message.mime()
    for part in list(root.walk()):
        _fix_part(part, limit, top=part is root)
    rendered = message.render()
    if longest_line(rendered) > limit:
        rendered = _break_lines(rendered, limit)
    return rendered


def _fix_part(part: Part, limit: int, *, top: bool) -> None:
    _fold_headers(part, limit)
    if part.is_multipart or part.maintype in ("multipart", "message"):
        return  # children are walked on their own; their delimiters are ours to keep
    raw = part.raw_body()
    if longest_line(raw) <= limit:
        return
    cte = part.cte
    if cte == "base64":
        compact = re.sub(rb"\s+", b"", raw)
        eol = part.headers.eol
        lines = [compact[i:i + _BASE64_LINE] for i in range(0, len(compact), _BASE64_LINE)]
        part.set_raw_body(eol.join(lines) + (eol if raw.endswith((b"\n", b"\r")) else b""))
        return
    if cte == "quoted-printable":
        decoded = part.body()
    elif cte in ("7bit", "8bit", "binary", ""):
        decoded = raw
    else:
        return  # an unknown encoding: leave it to the final break pass
    part.set_raw_body(_qp_encode(decoded, part.headers.eol))
    part.headers.replace("Content-Transfer-Encoding", "quoted-printable")
    if top and "MIME-Version" not in part.headers:
        part.headers.append("MIME-Version", "1.0")
    # the fields we just wrote can exceed a small limit too: fold them, never break them
    _fold_headers(part, limit)


def _qp_encode(decoded: bytes, eol: bytes) -> bytes:
    """Quoted-printable keeping the body's hard line breaks (CRLF, or LF) as line breaks;
    encoded lines are at most 76 bytes (within MIN_FIX_LIMIT)."""
    text = decoded.replace(b"\r\n", b"\n")
    encoded = binascii.b2a_qp(text, istext=True)
    # b2a_qp leaves a lone CR as "=0D"; line breaks come back as the part's line ending.
    return encoded.replace(b"\n", eol)


def _fold_headers(part: Part, limit: int) -> bool:
    """Fold every header field with a physical line over ``limit``; True if any was."""
    changed = False
    for field in list(part.headers):
        if longest_line(field.raw) <= limit:
            continue
        field_raw = _fold_field(field.raw, limit)
        field.raw = field_raw
        changed = True
    if changed:
        part.headers.version += 1
    return changed


def _fold_field(raw: bytes, limit: int) -> bytes:
    out: list[bytes] = []
    for line in _LINES.findall(raw):
        if not line:
            continue
        body = line.rstrip(b"\r\n")
        eol = line[len(body):]
        pieces = []
        while len(body) > limit:
            cut = max(body.rfind(b" ", 1, limit), body.rfind(b"\t", 1, limit))
            if cut <= 0:
                pieces.append(body[:limit])
                body = b" " + body[limit:]
            else:
                pieces.append(body[:cut])
                body = body[cut:]  # the whitespace starts the continuation line
        pieces.append(body)
        out.append(b"\r\n".join(pieces) + eol)
    return b"".join(out)


def _break_lines(data: bytes, limit: int) -> bytes:
    out: list[bytes] = []
    for line in _LINES.findall(data):
        body = line.rstrip(b"\r\n")
        eol = line[len(body):]
        while len(body) > limit:
            out.append(body[:limit] + b"\r\n")
            body = body[limit:]
        out.append(body + eol)
    return b"".join(out)
