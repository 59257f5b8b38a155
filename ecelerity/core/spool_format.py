"""On-disk record format of the spool journal, the scanner that reads it back, errors.

A segment file is a sequence of records, each self-delimiting and checksummed::

    ECSPOOL 1 <kind> <meta_len> <data_len> <crc32 as 8 hex>\\n
    <meta: meta_len bytes of UTF-8 JSON object><data: data_len raw bytes>\\n

``kind`` is one letter (B batch, D done, U update; see spool.py). The CRC-32 covers
``"<kind> <meta_len> <data_len>\\n"`` + meta + data, so a torn, truncated, zero-filled
or bit-flipped record is detected, never misread. After a bad stretch the scanner
resynchronises on the next ``ECSPOOL 1 `` that starts a record with a valid checksum.
A run of NUL bytes up to the end of the file is unused preallocated space, not damage.

Used by spool_commit.py (encode), spool_in.py and show.py (scan), spool.py (BodyReader).
Pure functions and one small file reader: no gevent, no spool policy here.
"""
from __future__ import annotations

import errno
import io
import json
import os
import zlib
from dataclasses import dataclass
from typing import Any

MAGIC = b"ECSPOOL 1 "
MAX_HEADER = 96
KINDS = (b"B", b"D", b"U")


class SpoolError(Exception):
    """The spool could not make a write durable; the session answers 451 4.3.0."""

    code = 451
    enhanced = "4.3.0"

    def __init__(self, message: str, errno_value: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_value

    @property
    def reply(self) -> str:
        """The SMTP reply a session sends for this failure."""
        return f"{self.code} {self.enhanced} {self.reply_text}"

    reply_text = "Temporary local problem, please try again later"


class SpoolFullError(SpoolError):
    """The spool's file system is full (ENOSPC/EDQUOT); the session answers 452 4.3.1."""

    code = 452
    enhanced = "4.3.1"
    reply_text = "Insufficient system storage"


def error_from_oserror(exc: OSError, doing: str) -> SpoolError:
    """Map an OSError to SpoolFullError (no space/quota) or SpoolError, with context."""
    message = f"spool: {doing}: {exc.strerror or exc} (errno {exc.errno})"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return SpoolFullError(message, exc.errno)
    return SpoolError(message, exc.errno)


def encode_record(kind: bytes, meta: dict[str, Any], data: bytes = b"") -> list[bytes]:
    """The record as a list of buffers to write in order (data is not copied)."""
    meta_bytes = json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    sized = b"%s %d %d\n" % (kind, len(meta_bytes), len(data))
    crc = zlib.crc32(data, zlib.crc32(meta_bytes, zlib.crc32(sized)))
    header = b"%s%s %d %d %08x\n" % (MAGIC, kind, len(meta_bytes), len(data), crc)
    return [header, meta_bytes, data, b"\n"]


@dataclass
class Record:
    """One good record found by ``scan``: where it is and what it says."""

    kind: str
    meta: dict[str, Any]
    offset: int
    data_offset: int
    data_len: int
    end: int


@dataclass
class BadRange:
    """A stretch of a segment that is not a good record (to quarantine)."""

    start: int
    end: int
    reason: str


def _parse_at(buf: bytes, offset: int) -> Record | str:
    """The record starting at ``offset`` or a reason why there is none."""
    header_end = buf.find(b"\n", offset, offset + MAX_HEADER)
    if not buf.startswith(MAGIC, offset) or header_end < 0:
        return "no record header"
    fields = buf[offset + len(MAGIC):header_end].split(b" ")
    if len(fields) != 4 or fields[0] not in KINDS or not fields[1].isdigit() \
            or not fields[2].isdigit() or len(fields[3]) != 8:
        return "malformed record header"
    meta_len, data_len = int(fields[1]), int(fields[2])
    meta_start = header_end + 1
    data_start = meta_start + meta_len
    end = data_start + data_len + 1
    if end > len(buf):
        return f"truncated record (needs {end - offset} bytes, {len(buf) - offset} present)"
    sized = b"%s %d %d\n" % (fields[0], meta_len, data_len)
    view = memoryview(buf)
    crc = zlib.crc32(view[data_start:end - 1],
                     zlib.crc32(view[meta_start:data_start], zlib.crc32(sized)))
    if b"%08x" % crc != fields[3] or buf[end - 1:end] != b"\n":
        return "checksum mismatch"
    try:
        meta = json.loads(buf[meta_start:data_start].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"unparseable record metadata: {exc}"
    if not isinstance(meta, dict):
        return "record metadata is not an object"
    return Record(fields[0].decode(), meta, offset, data_start, data_len, end)


def scan(buf: bytes) -> tuple[list[Record], list[BadRange]]:
    """Every good record of a segment's bytes, and every bad stretch between them."""
    records: list[Record] = []
    problems: list[BadRange] = []
    offset, size = 0, len(buf)
    while offset < size:
        parsed = _parse_at(buf, offset)
        if isinstance(parsed, Record):
            records.append(parsed)
            offset = parsed.end
            continue
        if buf.count(b"\0", offset) == size - offset:
            break  # preallocated, never written
        resync = buf.find(MAGIC, offset + 1)
        while resync >= 0 and not isinstance(_parse_at(buf, resync), Record):
            resync = buf.find(MAGIC, resync + 1)
        bad_end = size if resync < 0 else resync
        problems.append(BadRange(offset, bad_end, parsed))
        offset = bad_end
    return records, problems


class BodyReader(io.RawIOBase):
    """A read-only, seekable file over one stretch of a segment (a message body).

    Reads are ``os.pread`` calls on the calling thread: callers on the hub read in
    moderate chunks (the data is normally in the page cache right after spooling).
    """

    def __init__(self, path: str, start: int, length: int) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._start, self._length, self._pos = start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._length - self._pos)
        if want <= 0:
            return 0
        chunk = os.pread(self._fd, want, self._start + self._pos)
        buffer[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
