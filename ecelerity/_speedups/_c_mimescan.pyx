# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of mimescan.py: header splitting, unfolding, boundary scanning.

mimescan.py is the reference and documents the exact contract; this file must behave
identically on every input (tests/unit/speedups/test_mimescan_twins.py checks it).
Accepts any buffer (bytes, mmap); never does I/O, never imports the rest of ecelerity.
"""

from libc.string cimport memchr, memcmp

cdef inline Py_ssize_t _line_end(const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end):
    cdef const unsigned char* base = &data[0]
    cdef const unsigned char* lf = <const unsigned char*>memchr(base + pos, 10, end - pos)
    if lf == NULL:
        return end
    return (lf - base) + 1


cdef inline bint _is_blank(const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end):
    cdef unsigned char first = data[pos]
    if first == 10:
        return True
    return first == 13 and (pos + 1 >= end or data[pos + 1] == 10)


cdef inline Py_ssize_t _field_colon(const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t line_end):
    cdef Py_ssize_t at = pos
    cdef unsigned char byte
    while at < line_end:
        byte = data[at]
        if byte == 58:
            return at if at > pos else -1
        if byte <= 32 or byte > 126:
            return -1
        at += 1
    return -1


def split_headers(data, Py_ssize_t start=0, Py_ssize_t end=-1):
    cdef const unsigned char[:] view
    cdef Py_ssize_t pos, line_end, found, field_start = -1, colon = -1
    cdef unsigned char first
    fields = []
    if len(data) == 0:
        return fields, 0 if end < 0 else min(end, 0), False
    view = data
    if end < 0 or end > view.shape[0]:
        end = view.shape[0]
    pos = start
    while pos < end:
        if _is_blank(view, pos, end):
            if field_start >= 0:
                fields.append((field_start, colon, pos))
            return fields, _line_end(view, pos, end), True
        line_end = _line_end(view, pos, end)
        first = view[pos]
        if first == 32 or first == 9:
            if field_start < 0:
                return fields, pos, False
        else:
            found = _field_colon(view, pos, line_end)
            if found < 0:
                if field_start >= 0:
                    fields.append((field_start, colon, pos))
                return fields, pos, False
            if field_start >= 0:
                fields.append((field_start, colon, pos))
            field_start = pos
            colon = found
        pos = line_end
    if field_start >= 0:
        fields.append((field_start, colon, end))
    return fields, end, False


def unfold(bytes value):
    cdef Py_ssize_t n = len(value), i = 0, out = 0, lo, hi
    cdef const unsigned char* src = value
    cdef bytearray result = bytearray(n)
    cdef unsigned char* dst = result
    cdef unsigned char byte
    cdef Py_ssize_t brk
    while i < n:
        byte = src[i]
        if byte == 13 or byte == 10:
            brk = 2 if (byte == 13 and i + 1 < n and src[i + 1] == 10) else 1
            if i + brk < n and (src[i + brk] == 32 or src[i + brk] == 9):
                i += brk
                continue
        dst[out] = byte
        out += 1
        i += 1
    lo = 0
    hi = out
    while lo < hi and (dst[lo] == 32 or dst[lo] == 9 or dst[lo] == 13 or dst[lo] == 10):
        lo += 1
    while hi > lo and (dst[hi - 1] == 32 or dst[hi - 1] == 9 or dst[hi - 1] == 13 or dst[hi - 1] == 10):
        hi -= 1
    return bytes(result[lo:hi])


cdef Py_ssize_t _find(const unsigned char* base, Py_ssize_t pos, Py_ssize_t end,
                      const unsigned char* marker, Py_ssize_t size):
    cdef const unsigned char* hit
    while end - pos >= size:
        hit = <const unsigned char*>memchr(base + pos, marker[0], end - pos - size + 1)
        if hit == NULL:
            return -1
        pos = hit - base
        if memcmp(hit, marker, size) == 0:
            return pos
        pos += 1
    return -1


def find_boundaries(data, bytes boundary, Py_ssize_t start=0, Py_ssize_t end=-1):
    cdef const unsigned char[:] view
    cdef const unsigned char* base
    cdef bytes marker
    cdef Py_ssize_t size, pos, at, after
    cdef bint close
    found = []
    if not boundary or len(data) == 0:
        return found
    view = data
    base = &view[0]
    if end < 0 or end > view.shape[0]:
        end = view.shape[0]
    marker = b"--" + boundary
    size = len(marker)
    pos = start
    while True:
        at = _find(base, pos, end, marker, size)
        if at < 0:
            return found
        pos = at + 1
        if at > start and base[at - 1] != 10:
            continue
        after = at + size
        close = after + 1 < end and base[after] == 45 and base[after + 1] == 45
        if close:
            after += 2
        while after < end and (base[after] == 32 or base[after] == 9):
            after += 1
        if after < end:
            if base[after] == 10:
                after += 1
            elif base[after] == 13 and (after + 1 == end or base[after + 1] == 10):
                after = after + 2 if after + 1 < end else end
            else:
                continue
        found.append((at, after, close))
        if close:
            return found
        pos = after
