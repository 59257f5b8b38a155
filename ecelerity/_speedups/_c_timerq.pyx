# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of timerq.py (the reference; read its docstring): same API, same order.

Entries are C structs-in-objects compared on (due, seq) as C doubles/longs, with a
hand-written binary heap instead of heapq over Python lists. Behaviour must match the
reference exactly; tests/unit/speedups/test_timerq_twins.py checks it.
"""


cdef class _Entry:
    cdef double due
    cdef long long seq
    cdef object key
    cdef bint alive

    def __cinit__(self, double due, long long seq, object key):
        self.due = due
        self.seq = seq
        self.key = key
        self.alive = True


cdef inline bint _less(_Entry a, _Entry b):
    return a.due < b.due or (a.due == b.due and a.seq < b.seq)


cdef class TimerQueue:
    cdef list _heap
    cdef dict _entries
    cdef long long _seq
    cdef Py_ssize_t _dead

    def __init__(self):
        self._heap = []
        self._entries = {}
        self._seq = 0
        self._dead = 0

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        return key in self._entries

    cdef void _sift_up(self, Py_ssize_t pos):
        cdef list heap = self._heap
        cdef _Entry item = <_Entry>heap[pos]
        cdef Py_ssize_t parent
        while pos > 0:
            parent = (pos - 1) >> 1
            if _less(item, <_Entry>heap[parent]):
                heap[pos] = heap[parent]
                pos = parent
            else:
                break
        heap[pos] = item

    cdef void _sift_down(self, Py_ssize_t pos):
        cdef list heap = self._heap
        cdef Py_ssize_t size = len(heap)
        cdef _Entry item = <_Entry>heap[pos]
        cdef Py_ssize_t child
        while True:
            child = 2 * pos + 1
            if child >= size:
                break
            if child + 1 < size and _less(<_Entry>heap[child + 1], <_Entry>heap[child]):
                child += 1
            if _less(<_Entry>heap[child], item):
                heap[pos] = heap[child]
                pos = child
            else:
                break
        heap[pos] = item

    cdef _Entry _pop_top(self):
        cdef list heap = self._heap
        cdef _Entry top = <_Entry>heap[0]
        cdef object last = heap.pop()
        if heap:
            heap[0] = last
            self._sift_down(0)
        return top

    cdef void _cancel(self, key):
        cdef _Entry entry = <_Entry>self._entries.pop(key)
        cdef Py_ssize_t i
        entry.alive = False
        self._dead += 1
        if self._dead > 64 and self._dead > len(self._entries):
            self._heap = [item for item in self._heap if (<_Entry>item).alive]
            for i in range(len(self._heap) // 2 - 1, -1, -1):
                self._sift_down(i)
            self._dead = 0

    def push(self, due, key):
        cdef double d = float(due)
        if key in self._entries:
            self._cancel(key)
        cdef _Entry entry = _Entry(d, self._seq, key)
        self._seq += 1
        self._entries[key] = entry
        self._heap.append(entry)
        self._sift_up(len(self._heap) - 1)

    def remove(self, key):
        if key not in self._entries:
            return False
        self._cancel(key)
        return True

    def due_of(self, key):
        entry = self._entries.get(key)
        return None if entry is None else (<_Entry>entry).due

    def peek(self):
        cdef _Entry top
        while self._heap and not (<_Entry>self._heap[0]).alive:
            self._pop_top()
            self._dead -= 1
        if not self._heap:
            return None
        top = <_Entry>self._heap[0]
        return top.due, top.key

    def pop_due(self, double now, long long limit=-1):
        cdef list due_keys = []
        cdef _Entry entry
        while self._heap and limit != 0:
            entry = <_Entry>self._heap[0]
            if not entry.alive:
                self._pop_top()
                self._dead -= 1
                continue
            if entry.due > now:
                break
            self._pop_top()
            del self._entries[entry.key]
            due_keys.append(entry.key)
            limit -= 1
        return due_keys

    def keys(self):
        return list(self._entries)

    def clear(self):
        self._heap = []
        self._entries = {}
        self._dead = 0
