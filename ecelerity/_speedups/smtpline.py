"""SMTP hot path: command-line splitting and the DATA-phase reader (reference).

This plain-Python module is the single source of truth for two byte-stream readers
used by the SMTP session (ecelerity/smtp/session.py):

- ``LineSplitter``: command mode. Feed it bytes, take complete lines. Bounded: a
  line longer than ``max_line`` raises ``LineTooLong`` and is discarded up to its LF.
- ``DataReader``: DATA mode. Dot-unstuffing, end-of-data detection, size accounting,
  header/body boundary, bare CR/LF policy. Only ``<CRLF>.<CRLF>`` ends DATA: no other
  line-ending mix ever does (SMTP smuggling defence).

Its compiled twin ``_c_smtpline.pyx`` must behave identically (the tests compare
them byte for byte); the single soft import at the bottom picks the twin unless
``ECELERITY_PURE_PYTHON`` is set. ``IMPLEMENTATION`` says which one is in use.

Definitions both twins follow (on the *stored*, unstuffed byte stream):
- a line ends at CRLF; a bare LF / bare CR ends a line only in "normalize" mode,
  where it is stored as CRLF; a '.' starting such a line is stuffing and dropped, but
  ".CRLF" there does not end DATA (that would be <LF>.<CRLF> / <CR>.<CRLF> smuggling);
- the bare CR/LF flags (``saw_lone_lf``, ``saw_lone_cr``) are set whatever the policy;
  "reject" stores like "keep": the session refuses the message once DATA has ended;
- ``header_end``: offset just past the first empty line's CRLF (2 when the message
  starts with CRLF); when the message has no empty line it is set to ``size`` at the end;
- ``long_line``: some line (without its CRLF) is longer than ``max_line`` (> 0);
- a CR is stored (and counted in ``size``) only once the byte after it is known.

Never does I/O, never imports the rest of ecelerity, never grows without bound.
"""

from __future__ import annotations

import re

from . import compiled_twin

__all__ = ["IMPLEMENTATION", "DataReader", "LineSplitter", "LineTooLong", "LONE_POLICIES"]

LONE_POLICIES = ("reject", "normalize", "keep")

# A line-start dot candidate, a CR not followed by LF, or an LF not preceded by CR.
_EVENT = re.compile(rb"\r\n\.|\r(?!\n)|(?<!\r)\n")
# The same when the chunk has no bare CR/LF (the common case): a fast literal search.
_DOT_LINE = re.compile(rb"\r\n\.")
_CRLF = b"\r\n"
# Where the next byte stands: mid-line, after a real CRLF (".\r\n" here ends DATA), or
# after a bare CR/LF stored as CRLF in "normalize" mode (a '.' is stuffing, never the end).
_MID, _AFTER_CRLF, _AFTER_NORMALIZED = 0, 1, 2
_DOT = 0x2E
_CR = 0x0D


class LineTooLong(ValueError):
    """A command line exceeded the splitter's ``max_line`` (terminator not counted)."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"line too long: {length} bytes seen, limit {limit}")
        self.length = length
        self.limit = limit


class LineSplitter:
    """Command-mode reader: feed bytes, get complete lines. Bounded."""

    def __init__(self, max_line: int = 4096) -> None:
        if max_line < 1:
            raise ValueError(f"max_line must be >= 1, got {max_line}")
        self.max_line = max_line
        self.bare_lf = False
        self._buf = bytearray()
        self._start = 0  # first unconsumed byte in _buf
        self._scan = 0  # no LF in _buf[_start:_scan]
        self._discarding = False  # inside an over-long line: drop up to its LF

    def feed(self, data: bytes) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        if self._discarding:
            lf = data.find(b"\n")
            if lf < 0:
                return
            self._discarding = False
            data = data[lf + 1 :]
        if self._start:
            del self._buf[: self._start]
            self._scan -= self._start
            self._start = 0
        self._buf += data

    def next_line(self) -> bytes | None:
        buf = self._buf
        lf = buf.find(b"\n", self._scan)
        if lf < 0:
            end = len(buf)
            self._scan = end
            seen = end - self._start
            content = seen - 1 if seen and buf[end - 1] == _CR else seen
            if content > self.max_line:
                buf.clear()
                self._start = self._scan = 0
                self._discarding = True
                raise LineTooLong(seen, self.max_line)
            return None
        start = self._start
        crlf = lf > start and buf[lf - 1] == _CR
        line = bytes(buf[start : lf - 1 if crlf else lf])
        if lf + 1 == len(buf):
            buf.clear()
            self._start = self._scan = 0
        else:
            self._start = self._scan = lf + 1
        if len(line) > self.max_line:
            raise LineTooLong(len(line), self.max_line)
        self.bare_lf = not crlf
        return line

    def take_buffer(self) -> bytes:
        rest = bytes(self._buf[self._start :])
        self._buf.clear()
        self._start = self._scan = 0
        return rest

    def pending(self) -> int:
        return len(self._buf) - self._start


class DataReader:
    """DATA-phase reader: dot-unstuffing, end detection, size accounting, header/body boundary."""

    def __init__(
        self, max_size: int = 0, lone_lf: str = "reject", lone_cr: str = "reject", max_line: int = 0
    ) -> None:
        if lone_lf not in LONE_POLICIES or lone_cr not in LONE_POLICIES:
            raise ValueError(
                f"lone_lf/lone_cr must be one of {LONE_POLICIES}: {lone_lf!r}, {lone_cr!r}"
            )
        if max_size < 0 or max_line < 0:
            raise ValueError(f"max_size and max_line must be >= 0, got {max_size}, {max_line}")
        self.max_size = max_size
        self.max_line = max_line
        self.lone_lf = lone_lf
        self.lone_cr = lone_cr
        self.size = 0
        self.oversized = False
        self.saw_lone_lf = False
        self.saw_lone_cr = False
        self.header_end = -1
        self.long_line = False
        self.done = False
        self._out: list[bytes] = []
        self._stored = 0  # bytes ever kept for take() (bounded by max_size)
        self._carry = b""  # unresolved input: "", "\r", "." or ".\r"
        self._line_start = _AFTER_CRLF  # where the byte at _carry[0] / next input stands
        self._hdr_tail = _CRLF  # last <= 3 stored bytes (a virtual CRLF before the message)
        self._line_len = 0  # stored bytes since the last stored CRLF
        self._last_cr = False  # last stored byte was CR

    def feed(self, data: bytes) -> int:
        if self.done:
            return 0
        if type(data) is not bytes:
            data = bytes(data)
        carried = len(self._carry)
        buf = self._carry + data if carried else data
        self._carry = b""
        n = len(buf)
        norm_lf = self.lone_lf == "normalize"
        norm_cr = self.lone_cr == "normalize"
        pos = emit_from = 0
        line_start = self._line_start
        crlf_count = buf.count(_CRLF)
        clean = buf.count(b"\n") == crlf_count and buf.count(b"\r") == crlf_count + (
            buf[-1:] == b"\r"
        )
        search = _DOT_LINE.search if clean else _EVENT.search
        while True:
            if line_start:
                if pos >= n:
                    break
                if buf[pos] == _DOT and line_start == _AFTER_NORMALIZED:
                    self._emit(buf[emit_from:pos])
                    emit_from = pos = pos + 1
                elif buf[pos] == _DOT:
                    after = buf[pos + 1 : pos + 3]
                    if after == _CRLF:
                        self._emit(buf[emit_from:pos])
                        self._finish()
                        return pos + 3 - carried
                    if after == b"" or after == b"\r":
                        self._emit(buf[emit_from:pos])
                        self._carry = buf[pos:]
                        self._line_start = _AFTER_CRLF
                        return -1
                    self._emit(buf[emit_from:pos])  # a stuffed dot: drop it
                    emit_from = pos = pos + 1
                line_start = _MID
            match = search(buf, pos)
            if match is None:
                break
            at = match.start()
            if match.end() - at == 3:  # CRLF then '.'
                pos = at + 2
                line_start = _AFTER_CRLF
            elif buf[at] == _CR:
                if at == n - 1:  # its successor is not here yet
                    self._emit(buf[emit_from:at])
                    self._carry = b"\r"
                    self._line_start = _MID
                    return -1
                self.saw_lone_cr = True
                pos = at + 1
                if norm_cr:
                    self._emit(buf[emit_from:at] + _CRLF)
                    emit_from = pos
                    line_start = _AFTER_NORMALIZED
            else:
                self.saw_lone_lf = True
                pos = at + 1
                if norm_lf:
                    self._emit(buf[emit_from:at] + _CRLF)
                    emit_from = pos
                    line_start = _AFTER_NORMALIZED
        if buf[-1:] == b"\r":  # (clean chunks only) the CR waits for its successor
            self._emit(buf[emit_from : n - 1])
            self._carry = b"\r"
            self._line_start = _MID
            return -1
        self._emit(buf[emit_from:])
        if not line_start and buf[-2:] == _CRLF:
            line_start = _AFTER_CRLF
        self._line_start = line_start
        return -1

    def take(self) -> bytes:
        out = b"".join(self._out)
        self._out.clear()
        return out

    def _finish(self) -> None:
        self.done = True
        if self.header_end < 0:
            self.header_end = self.size

    def _emit(self, seg: bytes) -> None:
        """Account for and keep (within max_size) a piece of the stored message."""
        count = len(seg)
        if not count:
            return
        if self.max_line and not self.long_line:
            self._track_lines(seg)
        if self.header_end < 0:
            self._track_header(seg)
        limit = self.max_size
        if limit and self._stored + count > limit:
            room = limit - self._stored
            if room > 0:
                self._out.append(seg[:room])
                self._stored = limit
        else:
            self._out.append(seg)
            self._stored += count
        self.size += count
        if limit and self.size > limit:
            self.oversized = True

    def _track_header(self, seg: bytes) -> None:
        tail = self._hdr_tail
        across = (tail + seg[:3]).find(b"\r\n\r\n")
        if across >= 0:
            self.header_end = self.size - len(tail) + across + 4
            return
        inside = seg.find(b"\r\n\r\n")
        if inside >= 0:
            self.header_end = self.size + inside + 4
            return
        self._hdr_tail = seg[-3:] if len(seg) >= 3 else (tail + seg)[-3:]

    def _track_lines(self, seg: bytes) -> None:
        limit = self.max_line
        line_len = self._line_len
        start = 0
        if self._last_cr and seg[0] == 0x0A:  # a CRLF split between two stored pieces
            if line_len - 1 > limit:
                self.long_line = True
                return
            line_len = 0
            start = 1
        first = seg.find(_CRLF, start)
        if first < 0:
            line_len += len(seg) - start
        else:
            last = seg.rfind(_CRLF)
            if line_len + first - start > limit or (
                last > first and self._has_long_line(seg, first + 2, last)
            ):
                self.long_line = True
                return
            line_len = len(seg) - last - 2
        self._last_cr = seg[-1] == _CR
        if line_len - self._last_cr > limit:
            self.long_line = True
        self._line_len = line_len

    def _has_long_line(self, seg: bytes, begin: int, end: int) -> bool:
        """Is a CRLF-separated line of seg[begin:end] longer than max_line?"""
        limit = self.max_line
        # A line longer than limit contains a whole aligned block with no CRLF in it: look
        # for such a block with a few C-level finds before splitting into lines.
        block = (limit + 1) // 2
        find = seg.find
        for at in range(begin, end - block + 1, block):
            if find(_CRLF, at, at + block) < 0:
                return max(map(len, seg[begin:end].split(_CRLF))) > limit
        return False


_py_LineSplitter = LineSplitter
_py_DataReader = DataReader
IMPLEMENTATION = "python"

_twin = compiled_twin("smtpline")
if _twin is not None:
    DataReader = _twin.DataReader  # noqa: F811  (compiled twin)
    LineSplitter = _twin.LineSplitter  # noqa: F811  (compiled twin)
    IMPLEMENTATION = "cython"
