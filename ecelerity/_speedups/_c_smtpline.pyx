# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled twin of ecelerity/_speedups/smtpline.py (command lines and the DATA reader).

smtpline.py is the reference and documents the behaviour; this module must match
it byte for byte and attribute for attribute (tests/unit/speedups/test_smtpline_twins.py).
It scans with memchr over C buffers and never creates per-byte Python objects.
Imported only by smtpline.py's soft import and by the tests; never imports the
rest of ecelerity at import time (LineTooLong is fetched lazily from the reference).
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcpy, memmove

cdef enum:
    ST_LINE_START = 0  # at a real line start: a '.' here is stuffing (or the end)
    ST_MID = 1
    ST_CR = 2  # a CR seen, not stored yet: its successor decides
    ST_DOT = 3  # line-start '.' dropped
    ST_DOT_CR = 4  # line-start '.' dropped, then a CR: LF next means end of data
    ST_NORMALIZED_START = 5  # after a bare CR/LF stored as CRLF: a '.' is stuffing, never the end

cdef const unsigned char* CRLF = b"\r\n"
cdef Py_ssize_t SHRINK_ABOVE = 256 * 1024

_LONE_POLICIES = ("reject", "normalize", "keep")
_line_too_long_cls = None


cdef object _line_too_long(Py_ssize_t length, Py_ssize_t limit):
    """The reference's exception class, so callers catch one type whichever twin runs."""
    global _line_too_long_cls
    if _line_too_long_cls is None:
        from ecelerity._speedups.smtpline import LineTooLong
        _line_too_long_cls = LineTooLong
    return _line_too_long_cls(length, limit)


cdef class _ByteBuffer:
    """A growable C byte buffer (no Python object per append)."""
    cdef unsigned char* data
    cdef Py_ssize_t length
    cdef Py_ssize_t capacity

    def __dealloc__(self):
        free(self.data)

    cdef int append(self, const unsigned char* src, Py_ssize_t count) except -1:
        cdef Py_ssize_t need = self.length + count
        cdef Py_ssize_t cap
        cdef unsigned char* grown
        if count <= 0:
            return 0
        if need > self.capacity:
            cap = self.capacity * 2 if self.capacity else 4096
            while cap < need:
                cap *= 2
            grown = <unsigned char*>realloc(self.data, cap)
            if grown == NULL:
                raise MemoryError()
            self.data = grown
            self.capacity = cap
        memcpy(self.data + self.length, src, count)
        self.length = need
        return 0

    cdef bytes take(self, Py_ssize_t start):
        """Return data[start:] and empty the buffer (releasing a large one)."""
        cdef bytes out = PyBytes_FromStringAndSize(<char*>self.data + start, self.length - start)
        self.length = 0
        if self.capacity > SHRINK_ABOVE:
            free(self.data)
            self.data = NULL
            self.capacity = 0
        return out


cdef class LineSplitter:
    """Command-mode reader: feed bytes, get complete lines. Bounded."""
    cdef _ByteBuffer _buf
    cdef Py_ssize_t _start
    cdef Py_ssize_t _scan
    cdef bint _discarding
    cdef readonly Py_ssize_t max_line
    cdef public bint bare_lf

    def __init__(self, Py_ssize_t max_line=4096):
        if max_line < 1:
            raise ValueError(f"max_line must be >= 1, got {max_line}")
        self.max_line = max_line
        self.bare_lf = False
        self._buf = _ByteBuffer()
        self._start = 0
        self._scan = 0
        self._discarding = False

    def feed(self, data) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        cdef const unsigned char* src = <const unsigned char*>PyBytes_AS_STRING(data)
        cdef Py_ssize_t count = PyBytes_GET_SIZE(data)
        cdef const unsigned char* lf
        if self._discarding:
            lf = <const unsigned char*>memchr(src, 10, count)
            if lf == NULL:
                return
            self._discarding = False
            count -= (lf + 1) - src
            src = lf + 1
        if self._start:
            memmove(self._buf.data, self._buf.data + self._start, self._buf.length - self._start)
            self._buf.length -= self._start
            self._scan -= self._start
            self._start = 0
        self._buf.append(src, count)

    def next_line(self):
        cdef _ByteBuffer buf = self._buf
        cdef const unsigned char* lf = NULL
        cdef Py_ssize_t at, seen, content, stop
        cdef bint crlf
        if buf.length > self._scan:
            lf = <const unsigned char*>memchr(buf.data + self._scan, 10, buf.length - self._scan)
        if lf == NULL:
            self._scan = buf.length
            seen = buf.length - self._start
            content = seen - 1 if seen and buf.data[buf.length - 1] == 13 else seen
            if content > self.max_line:
                buf.length = 0
                self._start = self._scan = 0
                self._discarding = True
                raise _line_too_long(seen, self.max_line)
            return None
        at = lf - buf.data
        crlf = at > self._start and buf.data[at - 1] == 13
        stop = at - 1 if crlf else at
        line = PyBytes_FromStringAndSize(<char*>buf.data + self._start, stop - self._start)
        if at + 1 == buf.length:
            buf.length = 0
            self._start = self._scan = 0
        else:
            self._start = self._scan = at + 1
        if PyBytes_GET_SIZE(line) > self.max_line:
            raise _line_too_long(PyBytes_GET_SIZE(line), self.max_line)
        self.bare_lf = not crlf
        return line

    def take_buffer(self) -> bytes:
        cdef bytes rest = self._buf.take(self._start)
        self._start = self._scan = 0
        return rest

    def pending(self) -> int:
        return self._buf.length - self._start


cdef class DataReader:
    """DATA-phase reader: dot-unstuffing, end detection, size accounting, header/body boundary."""
    cdef readonly Py_ssize_t max_size
    cdef readonly Py_ssize_t max_line
    cdef readonly str lone_lf
    cdef readonly str lone_cr
    cdef readonly Py_ssize_t size
    cdef readonly bint oversized
    cdef readonly bint saw_lone_lf
    cdef readonly bint saw_lone_cr
    cdef readonly Py_ssize_t header_end
    cdef readonly bint long_line
    cdef readonly bint done
    cdef bint _norm_lf
    cdef bint _norm_cr
    cdef int _state
    cdef _ByteBuffer _out
    cdef Py_ssize_t _stored
    cdef unsigned int _hdr_window  # last 4 stored bytes, big-endian; starts as a virtual CRLF
    cdef Py_ssize_t _line_len
    cdef bint _last_cr

    def __init__(self, Py_ssize_t max_size=0, str lone_lf="reject", str lone_cr="reject",
                 Py_ssize_t max_line=0):
        if lone_lf not in _LONE_POLICIES or lone_cr not in _LONE_POLICIES:
            raise ValueError(
                f"lone_lf/lone_cr must be one of {_LONE_POLICIES}: {lone_lf!r}, {lone_cr!r}")
        if max_size < 0 or max_line < 0:
            raise ValueError(f"max_size and max_line must be >= 0, got {max_size}, {max_line}")
        self.max_size = max_size
        self.max_line = max_line
        self.lone_lf = lone_lf
        self.lone_cr = lone_cr
        self._norm_lf = lone_lf == "normalize"
        self._norm_cr = lone_cr == "normalize"
        self.size = 0
        self.oversized = False
        self.saw_lone_lf = False
        self.saw_lone_cr = False
        self.header_end = -1
        self.long_line = False
        self.done = False
        self._state = ST_LINE_START
        self._out = _ByteBuffer()
        self._stored = 0
        self._hdr_window = 0x0D0A
        self._line_len = 0
        self._last_cr = False

    def feed(self, data) -> int:
        if self.done:
            return 0
        if type(data) is not bytes:
            data = bytes(data)
        cdef const unsigned char* buf = <const unsigned char*>PyBytes_AS_STRING(data)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
        cdef Py_ssize_t i = 0, run = 0, next_cr = -1, next_lf = -1, stop
        cdef const unsigned char* hit
        cdef int state = self._state
        cdef unsigned char byte
        cdef bint carried
        while i < n:
            if state == ST_MID:
                if next_cr < i:
                    hit = <const unsigned char*>memchr(buf + i, 13, n - i)
                    next_cr = hit - buf if hit != NULL else n
                if next_lf < i:
                    hit = <const unsigned char*>memchr(buf + i, 10, n - i)
                    next_lf = hit - buf if hit != NULL else n
                i = next_cr if next_cr < next_lf else next_lf
                if i >= n:
                    break
                if buf[i] == 13:
                    state = ST_CR
                    i += 1
                    continue
                self.saw_lone_lf = True  # an LF with no CR before it
                if self._norm_lf:
                    self._emit(buf + run, i - run)
                    self._emit(CRLF, 2)
                    run = i + 1
                    state = ST_NORMALIZED_START
                i += 1
                continue
            byte = buf[i]
            if state == ST_LINE_START:
                if byte == 46:  # '.'
                    self._emit(buf + run, i - run)
                    run = i + 1
                    state = ST_DOT
                    i += 1
                else:
                    state = ST_MID
                continue
            if state == ST_NORMALIZED_START:
                if byte == 46:
                    self._emit(buf + run, i - run)
                    run = i + 1
                    i += 1
                state = ST_MID
                continue
            if state == ST_DOT:
                if byte == 13:
                    state = ST_DOT_CR
                    i += 1
                else:
                    state = ST_MID
                continue
            # ST_CR or ST_DOT_CR: the pending CR is buf[i-1], or was carried over (i == 0)
            carried = i == 0
            if byte == 10:
                if state == ST_DOT_CR:
                    self._state = ST_MID
                    self._finish()
                    return i + 1
                if carried:
                    self._emit(CRLF, 1)
                state = ST_LINE_START
                i += 1
                continue
            self.saw_lone_cr = True
            if self._norm_cr:
                if not carried:
                    self._emit(buf + run, i - 1 - run)
                self._emit(CRLF, 2)
                run = i
                state = ST_NORMALIZED_START
            else:
                if carried:
                    self._emit(CRLF, 1)
                state = ST_MID
        stop = n - 1 if (n > 0 and (state == ST_CR or state == ST_DOT_CR)) else n
        self._emit(buf + run, stop - run)
        self._state = state
        return -1

    def take(self) -> bytes:
        return self._out.take(0)

    cdef void _finish(self):
        self.done = True
        if self.header_end < 0:
            self.header_end = self.size

    cdef int _emit(self, const unsigned char* seg, Py_ssize_t count) except -1:
        """Account for and keep (within max_size) a piece of the stored message."""
        cdef Py_ssize_t room
        if count <= 0:
            return 0
        if self.max_line and not self.long_line:
            self._track_lines(seg, count)
        if self.header_end < 0:
            self._track_header(seg, count)
        if self.max_size and self._stored + count > self.max_size:
            room = self.max_size - self._stored
            if room > 0:
                self._out.append(seg, room)
                self._stored = self.max_size
        else:
            self._out.append(seg, count)
            self._stored += count
        self.size += count
        if self.max_size and self.size > self.max_size:
            self.oversized = True
        return 0

    cdef void _track_header(self, const unsigned char* seg, Py_ssize_t count):
        cdef unsigned int window
        cdef Py_ssize_t i = 0, at, j
        cdef const unsigned char* lf
        while i < count:
            lf = <const unsigned char*>memchr(seg + i, 10, count - i)
            if lf == NULL:
                break
            at = lf - seg
            window = self._hdr_window
            for j in range(at - 3 if at >= 3 else 0, at + 1):
                window = (window << 8) | seg[j]
            if window == 0x0D0A0D0A:
                self.header_end = self.size + at + 1
                return
            i = at + 1
        window = self._hdr_window
        for j in range(count - 4 if count >= 4 else 0, count):
            window = (window << 8) | seg[j]
        self._hdr_window = window

    cdef void _track_lines(self, const unsigned char* seg, Py_ssize_t count):
        cdef Py_ssize_t i = 0, at
        cdef Py_ssize_t line_len = self._line_len
        cdef Py_ssize_t limit = self.max_line
        cdef const unsigned char* lf
        cdef bint after_cr
        while i < count:
            lf = <const unsigned char*>memchr(seg + i, 10, count - i)
            if lf == NULL:
                line_len += count - i
                break
            at = lf - seg
            line_len += at - i
            after_cr = seg[at - 1] == 13 if at > 0 else self._last_cr
            if after_cr:
                if line_len - 1 > limit:
                    self.long_line = True
                    return
                line_len = 0
            else:
                line_len += 1
            i = at + 1
        self._last_cr = seg[count - 1] == 13
        if line_len - self._last_cr > limit:
            self.long_line = True
        self._line_len = line_len
