"""Content transfer decoding, charset conversion and RFC 2047 header words.

Called by core/mime.py (part bodies and text), core/headers.py (decoded header
values, encoding of new ones) and core/pcre_stream.py (incremental decoders for the
streaming matcher). Decoding never raises on bad input: it decodes what it can and
reports defects as short strings. Unknown charsets fall back to UTF-8 with U+FFFD
replacement, as Python's ``email`` does. Never does I/O.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

__all__ = [
    "IDENTITY_ENCODINGS",
    "IncrementalTransferDecoder",
    "charset_decoder",
    "decode_base64",
    "decode_header_words",
    "decode_qp",
    "decode_text",
    "decode_transfer",
    "encode_header_words",
    "encode_text_body",
    "normalize_cte",
]

IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
_B64_ALPHABET = re.compile(rb"[^A-Za-z0-9+/]")
_ENCODED_WORD = re.compile(
    r"=\?(?P<charset>[^?*\s]+)(?:\*[^?\s]*)?\?(?P<enc>[bBqQ])\?(?P<text>[^?\s]*)\?="
)
_BETWEEN_WORDS = re.compile(r"^[ \t\r\n]*$")
_MAX_WORD = 75


def normalize_cte(value: str | None) -> str:
    """The transfer encoding name, lower-cased; missing or empty means 7bit."""
    cte = (value or "").strip().lower()
    return cte or "7bit"


def decode_base64(data: bytes) -> tuple[bytes, list[str]]:
    """Tolerant base64: ignores non-alphabet bytes, stops at padding, keeps what decodes."""
    body = data.split(b"=", 1)[0]
    clean = _B64_ALPHABET.sub(b"", body)
    defects: list[str] = []
    if len(clean) != len(body.translate(None, b" \t\r\n")):
        defects.append("invalid characters in base64 data")
    extra = len(clean) % 4
    if extra == 1:
        defects.append("base64 data has an impossible length")
        clean = clean[:-1]
    elif extra:
        clean += b"=" * (4 - extra)
    return binascii.a2b_base64(clean), defects


def decode_qp(data: bytes) -> bytes:
    """Quoted-printable body decoding (soft line breaks removed); never raises."""
    return binascii.a2b_qp(data)


def decode_transfer(data: bytes, cte: str | None) -> tuple[bytes, list[str]]:
    """Undo a Content-Transfer-Encoding; unknown encodings pass through with a defect."""
    name = normalize_cte(cte)
    if name == "base64":
        return decode_base64(data)
    if name == "quoted-printable":
        return decode_qp(data), []
    if name in IDENTITY_ENCODINGS:
        return data, []
    return data, [f"unknown content-transfer-encoding {name!r}"]


def charset_decoder(charset: str | None) -> codecs.IncrementalDecoder:
    """An incremental decoder for charset (us-ascii default), UTF-8 if unknown."""
    name = (charset or "us-ascii").strip().strip('"').lower() or "us-ascii"
    try:
        return codecs.getincrementaldecoder(name)(errors="replace")
    except LookupError:
        return codecs.getincrementaldecoder("utf-8")(errors="replace")


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes in charset to str, replacing what does not decode (never raises)."""
    decoder = charset_decoder(charset)
    return decoder.decode(data, final=True)


class IncrementalTransferDecoder:
    """Transfer decoding of a body fed in arbitrary chunks (streaming regex, large parts).

    ``feed(chunk) -> bytes`` returns what can be decoded so far; ``finish() -> bytes``
    the rest. The concatenated output equals ``decode_transfer(whole, cte)[0]``.
    """

    def __init__(self, cte: str | None) -> None:
        self.cte = normalize_cte(cte)
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        if self.cte == "base64":
            return self._feed_base64(chunk)
        if self.cte == "quoted-printable":
            data = self._pending + chunk
            cut = data.rfind(b"\n") + 1
            self._pending = data[cut:]
            return decode_qp(data[:cut])
        return chunk

    def finish(self) -> bytes:
        rest, self._pending = self._pending, b""
        if self.cte == "base64":
            return decode_base64(rest)[0] if rest else b""
        if self.cte == "quoted-printable":
            return decode_qp(rest)
        return rest

    def _feed_base64(self, chunk: bytes) -> bytes:
        if self._pending.endswith(b"\x00"):  # padding seen: the rest is ignored
            return b""
        if b"=" in chunk:
            self._pending += chunk.split(b"=", 1)[0] + b"\x00"
            return b""
        data = self._pending + _B64_ALPHABET.sub(b"", chunk)
        cut = len(data) - len(data) % 4
        self._pending = data[cut:]
        return binascii.a2b_base64(data[:cut]) if cut else b""


def decode_header_words(value: str) -> str:
    """RFC 2047: decode encoded words; whitespace between adjacent words is dropped."""
    if "=?" not in value:
        return value
    pieces: list[str] = []
    last_end = 0
    last_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        between = value[last_end : match.start()]
        if not (last_was_word and _BETWEEN_WORDS.match(between)):
            pieces.append(between)
        decoded = _decode_word(match["charset"], match["enc"], match["text"])
        if decoded is None:
            pieces.append(match.group(0))
            last_was_word = False
        else:
            pieces.append(decoded)
            last_was_word = True
        last_end = match.end()
    pieces.append(value[last_end:])
    return "".join(pieces)


def _decode_word(charset: str, encoding: str, text: str) -> str | None:
    raw = text.encode("ascii", "surrogateescape")
    if encoding in "bB":
        payload, _ = decode_base64(raw)
    else:
        payload = binascii.a2b_qp(raw.replace(b"_", b" "), header=True)
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return payload.decode(charset, errors="replace")


def encode_header_words(text: str, lead: int = 0) -> str:
    """A header value for text: as is when printable ASCII (and holding nothing a decoder
    would take for an encoded word, ``=?``), else UTF-8 B encoded words.

    Words are at most 75 characters, joined by CRLF + space (folded, one word a
    line); lead is how many characters precede the value on its first line (the
    name and ': '), so that no line exceeds 78 characters.
    """
    if text.isascii() and "\r" not in text and "\n" not in text and "=?" not in text:
        return text
    prefix, suffix = "=?utf-8?b?", "?="
    words: list[str] = []
    chunk = b""
    limit = _word_capacity(min(_MAX_WORD, max(78 - lead, 16)))
    for char in text:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > limit:
            words.append(prefix + base64.b64encode(chunk).decode("ascii") + suffix)
            chunk = b""
            limit = _word_capacity(_MAX_WORD)
        chunk += encoded
    if chunk or not words:
        words.append(prefix + base64.b64encode(chunk).decode("ascii") + suffix)
    return "\r\n ".join(words)


def _word_capacity(word_length: int) -> int:
    """How many bytes fit base64-encoded in an encoded word of word_length chars."""
    return max((word_length - len("=?utf-8?b??=")) // 4 * 3, 3)


def encode_text_body(text: str, eol: bytes = b"\r\n") -> tuple[bytes, str]:
    """A body for text -> (bytes, transfer encoding): 7bit when short-lined ASCII,
    else UTF-8 quoted-printable. Line ends become eol."""
    lines = text.replace("\r\n", "\n").split("\n")
    if text.isascii() and all(len(line) <= 998 for line in lines):
        return eol.join(line.encode("ascii") for line in lines), "7bit"
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return encoded.replace(b"\n", eol), "quoted-printable"
