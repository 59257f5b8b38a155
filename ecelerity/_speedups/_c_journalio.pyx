# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of journalio.py (the reference; read its docstring): same API.

The worker is a pthread running ``_worker_main`` -- plain C, ``nogil`` from start to
end: it never takes the GIL, so a batch's pwritev + fdatasync + reply sends never wait
for the hub thread to drop it (the reference's thread needs it around each syscall).
The hub appends records to C arrays under a pthread mutex (``enqueue``); the worker
swaps the whole queue for its own spare arrays in one step (no allocation in the
thread), splits it into batches exactly as the reference does, and for each batch runs
the pwritev loop (partial writes, EINTR, IOV_MAX per call), fdatasync, the reply sends
(MSG_NOSIGNAL | MSG_DONTWAIT, then close), stores the report and writes 1 to the
eventfd. The report arrays are reserved by ``enqueue`` (one slot per outstanding
record: a batch holds at least one), so the thread never allocates.

Why taking the mutex with the GIL held cannot deadlock: the worker thread never
holds (or asks for) the GIL, and it holds the mutex only to read or store a few
fields, never across a syscall or a wait other than ``pthread_cond_wait`` (which
releases it). So a Python thread blocking on the mutex waits a few instructions at
most, and nothing the worker does while holding the mutex can wait on that thread.
``close`` releases the GIL while it joins the thread (a job may be in an fdatasync);
in a forked child (no thread there) it never joins and ``enqueue`` refuses.

The iovec arrays point into the buffers of the enqueued objects; the worker keeps
those objects (as memoryviews, which also pins bytearrays against resizing) until
``take_done()`` reports their record. Behaviour must match the reference; tests/unit/speedups/test_journalio*.py
check both.
"""
import os
from collections import deque

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from libc.errno cimport EAGAIN, EINTR, EIO, errno
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

from ._c_posix cimport (
    CLOCK_MONOTONIC, MSG_DONTWAIT, MSG_NOSIGNAL, close, clock_gettime, fdatasync, iovec,
    nanosleep, pthread_cond_destroy, pthread_cond_init, pthread_cond_signal, pthread_cond_t,
    pthread_cond_wait, pthread_create, pthread_join, pthread_mutex_destroy, pthread_mutex_init,
    pthread_mutex_lock, pthread_mutex_t, pthread_mutex_unlock, pthread_self,
    pthread_setname_np, pthread_t, pwritev, read, send, time_t, timespec, write)


DEF OK = 0
DEF FAILED_WRITE = 1
DEF FAILED_SYNC = 2
DEF CANCELLED = 3


cdef struct Record:
    int fd
    long long offset
    long long size
    int first_iov      # index into the iovec array that came with it
    int n_iov
    int reply_fd       # -1: no reply
    const char* reply
    size_t reply_len
    long long sent     # set by the worker: what _send_reply returned (-1: not sent)


cdef struct Queue:     # records + their iovecs; the hub fills one, the worker drains the other
    Record* rec
    int rec_len
    int rec_cap
    iovec* iov
    int iov_len
    int iov_cap


cdef struct Report:
    int count
    long long written
    int stage
    int error
    double started_at
    double finished_at


cdef struct Shared:
    pthread_mutex_t mutex
    pthread_cond_t cond
    int eventfd
    int iov_max
    int sync
    long long max_batch
    double min_interval  # seconds between the starts of two takes
    double last_start
    Queue queue        # under the mutex: the hub appends, the worker swaps it out
    Queue spare        # the worker's own while it writes (swapped back when drained)
    Report* done       # under the mutex; capacity reserved by enqueue
    int done_len
    int done_cap
    long long* sent    # one per reported record, under the mutex
    int sent_len
    int sent_cap
    int halted
    int closing
    int idle           # the worker is in (or entering) pthread_cond_wait: signal it


cdef double _now() noexcept nogil:
    cdef timespec now
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec + now.tv_nsec * 1e-9


cdef int _write_run(int fd, iovec* iov, int iovcnt, long long offset, int sync, int iov_max,
                    long long* written, int* error) noexcept nogil:
    """pwritev all of ``iov`` at ``offset`` (then fdatasync): the reference's write_and_sync."""
    cdef int first = 0
    cdef int count
    cdef ssize_t done
    cdef size_t left
    written[0] = 0
    error[0] = 0
    while first < iovcnt:
        count = iovcnt - first
        if count > iov_max:
            count = iov_max
        done = pwritev(fd, iov + first, count, offset + written[0])
        if done < 0:
            if errno == EINTR:
                continue
            error[0] = errno
            return FAILED_WRITE
        if done == 0:
            error[0] = EIO
            return FAILED_WRITE
        written[0] += done
        left = <size_t>done
        while first < iovcnt and left >= iov[first].iov_len:
            left -= iov[first].iov_len
            first += 1
        if left:
            iov[first].iov_base = <char*>iov[first].iov_base + left
            iov[first].iov_len -= left
    if sync:
        while fdatasync(fd) < 0:
            if errno != EINTR:
                error[0] = errno
                return FAILED_SYNC
    return OK


cdef long long _send_reply(Record* record) noexcept nogil:
    """The reference's _send: the bytes the kernel took (-1: none asked, or an error)."""
    cdef ssize_t got
    if record.reply_fd < 0:
        return -1
    if record.reply == NULL:
        close(record.reply_fd)
        return -1
    while True:
        got = send(record.reply_fd, record.reply, record.reply_len, MSG_NOSIGNAL | MSG_DONTWAIT)
        if got >= 0 or errno != EINTR:
            break
    if got < 0:
        got = 0 if errno == EAGAIN else -1  # (EWOULDBLOCK == EAGAIN on Linux)
    close(record.reply_fd)
    return got


cdef void _drain(Shared* s, Queue* q) noexcept nogil:
    """Write every record of ``q`` in batches; cancel what follows a failed batch."""
    cdef int first = 0
    cdef int last
    cdef int index
    cdef int halted
    cdef int stage
    cdef int error
    cdef long long written
    cdef long long end
    cdef long long total
    cdef double started
    while first < q.rec_len:
        pthread_mutex_lock(&s.mutex)
        halted = s.halted
        pthread_mutex_unlock(&s.mutex)
        if halted:  # a batch failed: the rest is the hub's to lay out again
            for index in range(first, q.rec_len):
                q.rec[index].sent = -1
            _report_run(s, q, first, q.rec_len, 0, CANCELLED, 0, _now())
            break
        last = first + 1
        end = q.rec[first].offset + q.rec[first].size
        total = q.rec[first].size
        while (last < q.rec_len and q.rec[last].fd == q.rec[first].fd
               and q.rec[last].offset == end and total + q.rec[last].size <= s.max_batch):
            end += q.rec[last].size
            total += q.rec[last].size
            last += 1
        started = _now()
        stage = _write_run(q.rec[first].fd, q.iov + q.rec[first].first_iov,
                           q.rec[last - 1].first_iov + q.rec[last - 1].n_iov - q.rec[first].first_iov,
                           q.rec[first].offset, s.sync, s.iov_max, &written, &error)
        for index in range(first, last):
            q.rec[index].sent = _send_reply(&q.rec[index]) if stage == OK else -1
        _report_run(s, q, first, last, written, stage, error, started)
        first = last
    q.rec_len = 0
    q.iov_len = 0


cdef void _report_run(Shared* s, Queue* q, int first, int last, long long written, int stage,
                      int error, double started) noexcept nogil:
    cdef uint64_t one = 1
    cdef int index
    pthread_mutex_lock(&s.mutex)
    s.done[s.done_len].count = last - first
    s.done[s.done_len].written = written
    s.done[s.done_len].stage = stage
    s.done[s.done_len].error = error
    s.done[s.done_len].started_at = started
    s.done[s.done_len].finished_at = _now()
    s.done_len += 1
    for index in range(first, last):
        s.sent[s.sent_len] = q.rec[index].sent
        s.sent_len += 1
    if stage != OK:
        s.halted = 1
    pthread_mutex_unlock(&s.mutex)
    while write(s.eventfd, &one, 8) < 0 and errno == EINTR:
        pass


cdef void* _worker_main(void* arg) noexcept nogil:
    cdef Shared* s = <Shared*>arg
    cdef Queue taken
    cdef double pause
    cdef timespec nap
    pthread_setname_np(pthread_self(), "journal-io")  # for top -H / ps -L
    while True:
        pthread_mutex_lock(&s.mutex)
        while s.queue.rec_len == 0 and not s.closing:
            s.idle = 1
            pthread_cond_wait(&s.cond, &s.mutex)
        s.idle = 0
        if s.queue.rec_len == 0:
            pthread_mutex_unlock(&s.mutex)
            return NULL
        pause = s.last_start + s.min_interval - _now()
        if pause > 0:  # at most one take per min_interval: what arrives meanwhile joins
            pthread_mutex_unlock(&s.mutex)
            nap.tv_sec = <time_t>pause
            nap.tv_nsec = <long>((pause - nap.tv_sec) * 1e9)
            nanosleep(&nap, NULL)
            pthread_mutex_lock(&s.mutex)
        s.last_start = _now()
        taken = s.queue          # swap: the hub goes on filling the (empty) spare arrays
        s.queue = s.spare
        s.spare = taken
        pthread_mutex_unlock(&s.mutex)
        _drain(s, &s.spare)


cdef int _grow(void** array, int* capacity, int need, size_t item) except -1:
    cdef void* grown
    cdef int wanted
    if need <= capacity[0]:
        return 0
    wanted = capacity[0] * 2 if capacity[0] else 64
    if wanted < need:
        wanted = need
    grown = realloc(array[0], wanted * item)
    if grown == NULL:
        raise MemoryError()
    array[0], capacity[0] = grown, wanted
    return 0


cdef class JournalWorker:
    """One dedicated GIL-free pthread writing queued records in chained batches."""

    cdef Shared* _s
    cdef pthread_t _thread
    cdef bint _started
    cdef bint _closed
    cdef object _held        # per queued record: (views, reply view), until reported
    cdef int _outstanding    # records enqueued and not yet handed out by take_done
    cdef int _pid            # a forked child has no worker thread: never join it there

    def __cinit__(self):
        self._s = <Shared*>malloc(sizeof(Shared))
        if self._s == NULL:
            raise MemoryError()
        memset(self._s, 0, sizeof(Shared))
        pthread_mutex_init(&self._s.mutex, NULL)
        pthread_cond_init(&self._s.cond, NULL)
        self._s.eventfd = -1

    def __init__(self, int eventfd, sync=True, long long max_batch_bytes=32 << 20,
                 double min_interval=0.0):
        cdef int rc
        self._s.iov_max = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024
        self._s.eventfd = eventfd
        self._s.sync = 1 if sync else 0
        self._s.max_batch = max_batch_bytes if max_batch_bytes > 0 else 1
        self._s.min_interval = min_interval if min_interval > 0 else 0.0
        self._held = deque()
        rc = pthread_create(&self._thread, NULL, _worker_main, self._s)
        if rc != 0:
            raise OSError(rc, os.strerror(rc), "journal-io worker: pthread_create")
        self._pid = os.getpid()
        self._started = True

    def enqueue(self, int fd, long long offset, list buffers, int reply_fd=-1, reply=None):
        """Queue one record (``reply`` sent on ``reply_fd`` once it is durable); never blocks."""
        cdef Py_buffer view
        cdef Queue* q
        cdef Record* record
        cdef long long size = 0
        cdef int count = 0
        cdef int first
        cdef int wake = 0
        if self._closed or not self._started or self._pid != os.getpid():
            raise RuntimeError("journal-io worker: closed (or inherited across a fork)")
        views = [memoryview(buffer) for buffer in buffers]
        reply_view = None if reply is None else memoryview(reply)
        pthread_mutex_lock(&self._s.mutex)
        try:
            q = &self._s.queue
            _grow(<void**>&q.rec, &q.rec_cap, q.rec_len + 1, sizeof(Record))
            _grow(<void**>&q.iov, &q.iov_cap, q.iov_len + len(views), sizeof(iovec))
            _grow(<void**>&self._s.done, &self._s.done_cap, self._outstanding + 1, sizeof(Report))
            _grow(<void**>&self._s.sent, &self._s.sent_cap, self._outstanding + 1,
                  sizeof(long long))
            first = q.iov_len
            for item in views:
                PyObject_GetBuffer(item, &view, PyBUF_SIMPLE)
                if view.len:  # the pointer stays valid while ``item`` is held
                    q.iov[first + count].iov_base = view.buf
                    q.iov[first + count].iov_len = <size_t>view.len
                    size += view.len
                    count += 1
                PyBuffer_Release(&view)
            record = &q.rec[q.rec_len]
            record.fd, record.offset, record.size = fd, offset, size
            record.first_iov, record.n_iov = first, count
            record.reply_fd, record.reply, record.reply_len = reply_fd, NULL, 0
            if reply_view is not None:
                PyObject_GetBuffer(reply_view, &view, PyBUF_SIMPLE)
                record.reply, record.reply_len = <const char*>view.buf, <size_t>view.len
                PyBuffer_Release(&view)
            q.iov_len += count
            q.rec_len += 1
            self._outstanding += 1
            wake = self._s.idle
            self._s.idle = 0
        finally:
            pthread_mutex_unlock(&self._s.mutex)
        if wake:  # (after unlocking: the woken worker must not block on our mutex, and a
            pthread_cond_signal(&self._s.cond)  # busy or napping one needs no signal)
        self._held.append((views, reply_view))

    def take_done(self):
        """The batches reported since the last call, oldest first (clears the eventfd)."""
        cdef uint64_t count
        cdef int index
        cdef int record
        cdef int at = 0
        while read(self._s.eventfd, &count, 8) < 0 and errno == EINTR:
            pass
        done = []
        pthread_mutex_lock(&self._s.mutex)
        try:
            for index in range(self._s.done_len):
                report = &self._s.done[index]
                sent = tuple([self._s.sent[at + record] for record in range(report.count)])
                at += report.count
                done.append((report.count, report.written, report.stage, report.error,
                             report.started_at, report.finished_at, sent))
            self._s.done_len = 0
            self._s.sent_len = 0
        finally:
            pthread_mutex_unlock(&self._s.mutex)
        for batch in done:
            self._outstanding -= batch[0]
            for _ in range(batch[0]):
                self._held.popleft()
        return done

    def resume(self):
        """Accept work again after a failed batch (records queued meanwhile were cancelled)."""
        pthread_mutex_lock(&self._s.mutex)
        self._s.halted = 0
        pthread_cond_signal(&self._s.cond)
        pthread_mutex_unlock(&self._s.mutex)

    cdef void _stop_thread(self):
        """Tell the thread to end once the queue is written, and join it. C fields only,
        so __dealloc__ may call it."""
        pthread_mutex_lock(&self._s.mutex)
        self._s.closing = 1
        pthread_cond_signal(&self._s.cond)
        pthread_mutex_unlock(&self._s.mutex)
        with nogil:
            pthread_join(self._thread, NULL)

    def close(self):
        """Write what is queued, stop the thread. Idempotent; the eventfd stays the caller's."""
        if self._closed:
            return
        self._closed = True
        if self._started and self._pid == os.getpid():
            self._stop_thread()

    def __dealloc__(self):
        if self._s == NULL:
            return
        if self._started and not self._closed and self._pid == os.getpid():
            self._stop_thread()
        if self._pid == os.getpid() or not self._started:
            # (in a forked child the condvar still counts the parent's waiting thread:
            # glibc's pthread_cond_destroy would wait for it forever; leak it instead)
            pthread_cond_destroy(&self._s.cond)
            pthread_mutex_destroy(&self._s.mutex)
            free(self._s.queue.rec)
            free(self._s.queue.iov)
            free(self._s.spare.rec)
            free(self._s.spare.iov)
            free(self._s.done)
            free(self._s.sent)
            free(self._s)
        self._s = NULL
