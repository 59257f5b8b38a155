# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of journalio.py (the reference; read its docstring): same API.

The worker is a pthread running ``_worker_main`` -- plain C, ``nogil`` from start to
end: it never takes the GIL, so a job's pwritev + fdatasync never waits for the hub
thread to drop it (the reference's thread needs it before and after each syscall).
It waits on a pthread mutex + condvar for a job, runs the pwritev loop (partial writes,
EINTR, IOV_MAX per call) and fdatasync, stores the outcome and writes 1 to the eventfd.

Why taking the mutex with the GIL held cannot deadlock: the worker thread never
holds (or asks for) the GIL, and it holds the mutex only to read or store a few
fields, never across a syscall or a wait other than ``pthread_cond_wait`` (which
releases it). So a Python thread blocking on the mutex waits a few instructions at
most, and nothing the worker does while holding the mutex can wait on that thread.
``close`` releases the GIL while it joins the thread (a job may be in an fdatasync);
in a forked child (no thread there) it never joins and ``submit`` refuses.

The iovec array points into the buffers of the submitted objects; the worker keeps
those objects (as memoryviews, which also pins bytearrays against resizing) until
``result()``. Behaviour must match the reference; tests/unit/speedups/test_journalio*.py
check both.
"""
import os

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from libc.errno cimport EAGAIN, EINTR, EIO, errno
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset


cdef extern from "<sys/uio.h>" nogil:
    struct iovec:
        void* iov_base
        size_t iov_len
    ssize_t pwritev(int fd, const iovec* iov, int iovcnt, long long offset)

cdef extern from "<unistd.h>" nogil:
    int fdatasync(int fd)
    ssize_t write(int fd, const void* buf, size_t count)
    ssize_t read(int fd, void* buf, size_t count)

cdef extern from "<time.h>" nogil:
    ctypedef long time_t
    struct timespec:
        time_t tv_sec
        long tv_nsec
    int CLOCK_MONOTONIC
    int clock_gettime(int clock_id, timespec* tp)

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_t:
        pass
    ctypedef struct pthread_mutex_t:
        pass
    ctypedef struct pthread_cond_t:
        pass
    int pthread_create(pthread_t* thread, const void* attr, void* (*start)(void*) noexcept nogil,
                       void* arg)
    int pthread_join(pthread_t thread, void** retval)
    int pthread_mutex_init(pthread_mutex_t* mutex, const void* attr)
    int pthread_mutex_destroy(pthread_mutex_t* mutex)
    int pthread_mutex_lock(pthread_mutex_t* mutex)
    int pthread_mutex_unlock(pthread_mutex_t* mutex)
    int pthread_cond_init(pthread_cond_t* cond, const void* attr)
    int pthread_cond_destroy(pthread_cond_t* cond)
    int pthread_cond_wait(pthread_cond_t* cond, pthread_mutex_t* mutex)
    int pthread_cond_signal(pthread_cond_t* cond)
    pthread_t pthread_self()
    int pthread_setname_np(pthread_t thread, const char* name)


DEF OK = 0
DEF FAILED_WRITE = 1
DEF FAILED_SYNC = 2


cdef struct Shared:
    pthread_mutex_t mutex
    pthread_cond_t cond
    int eventfd
    int iov_max
    # the job (written by submit before has_job is set, under the mutex)
    int fd
    iovec* iov
    int iovcnt
    int iov_capacity
    long long offset
    int sync
    # state (under the mutex)
    int has_job
    int closing
    # the outcome (written by the worker before has_job is cleared, under the mutex)
    long long written
    int stage
    int error
    double finished_at


cdef int _run_job(Shared* s) noexcept nogil:
    cdef int first = 0
    cdef int count
    cdef ssize_t done
    cdef size_t left
    s.written = 0
    s.stage = OK
    s.error = 0
    while first < s.iovcnt:
        count = s.iovcnt - first
        if count > s.iov_max:
            count = s.iov_max
        done = pwritev(s.fd, s.iov + first, count, s.offset + s.written)
        if done < 0:
            if errno == EINTR:
                continue
            s.stage, s.error = FAILED_WRITE, errno
            return -1
        if done == 0:
            s.stage, s.error = FAILED_WRITE, EIO
            return -1
        s.written += done
        left = <size_t>done
        while first < s.iovcnt and left >= s.iov[first].iov_len:
            left -= s.iov[first].iov_len
            first += 1
        if left:
            s.iov[first].iov_base = <char*>s.iov[first].iov_base + left
            s.iov[first].iov_len -= left
    if s.sync:
        while fdatasync(s.fd) < 0:
            if errno != EINTR:
                s.stage, s.error = FAILED_SYNC, errno
                return -1
    return 0


cdef void* _worker_main(void* arg) noexcept nogil:
    cdef Shared* s = <Shared*>arg
    cdef uint64_t one = 1
    cdef timespec now
    pthread_setname_np(pthread_self(), "journal-io")  # for top -H / ps -L
    while True:
        pthread_mutex_lock(&s.mutex)
        while not s.has_job and not s.closing:
            pthread_cond_wait(&s.cond, &s.mutex)
        if not s.has_job:
            pthread_mutex_unlock(&s.mutex)
            return NULL
        pthread_mutex_unlock(&s.mutex)
        _run_job(s)
        clock_gettime(CLOCK_MONOTONIC, &now)
        pthread_mutex_lock(&s.mutex)
        s.finished_at = now.tv_sec + now.tv_nsec * 1e-9
        s.has_job = 0
        pthread_mutex_unlock(&s.mutex)
        while write(s.eventfd, &one, 8) < 0 and errno == EINTR:
            pass


cdef class SyncWorker:
    """One dedicated GIL-free pthread running pwritev + fdatasync jobs."""

    cdef Shared* _s
    cdef pthread_t _thread
    cdef bint _started
    cdef bint _closed
    cdef object _held   # the submitted buffers, pinned until result()
    cdef int _pid       # a forked child has no worker thread: never join it there

    def __cinit__(self):
        self._s = <Shared*>malloc(sizeof(Shared))
        if self._s == NULL:
            raise MemoryError()
        memset(self._s, 0, sizeof(Shared))
        pthread_mutex_init(&self._s.mutex, NULL)
        pthread_cond_init(&self._s.cond, NULL)
        self._s.eventfd = -1

    def __init__(self):
        cdef int rc
        self._s.iov_max = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024
        self._s.eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        rc = pthread_create(&self._thread, NULL, _worker_main, self._s)
        if rc != 0:
            raise OSError(rc, os.strerror(rc), "journal-io worker: pthread_create")
        self._pid = os.getpid()
        self._started = True

    def fileno(self):
        return self._s.eventfd

    @property
    def busy(self):
        """A job was submitted and its result not yet taken."""
        return self._held is not None

    @property
    def finished_at(self):
        cdef double stamp
        pthread_mutex_lock(&self._s.mutex)
        stamp = self._s.finished_at
        pthread_mutex_unlock(&self._s.mutex)
        return stamp

    def submit(self, int fd, list buffers, long long offset, sync):
        """Start one job; never blocks. RuntimeError if one is pending or closed."""
        cdef Py_buffer view
        cdef int count = 0
        cdef iovec* grown
        if self._closed or not self._started or self._pid != os.getpid():
            raise RuntimeError("journal-io worker: closed (or inherited across a fork)")
        if self._held is not None:
            raise RuntimeError("journal-io worker: a job is already pending")
        views = [memoryview(buffer) for buffer in buffers]
        if len(views) > self._s.iov_capacity:
            grown = <iovec*>realloc(self._s.iov, len(views) * sizeof(iovec))
            if grown == NULL:
                raise MemoryError()
            self._s.iov, self._s.iov_capacity = grown, len(views)
        for item in views:
            PyObject_GetBuffer(item, &view, PyBUF_SIMPLE)
            try:
                if view.len:  # the pointer stays valid while ``item`` is held
                    self._s.iov[count].iov_base = view.buf
                    self._s.iov[count].iov_len = <size_t>view.len
                    count += 1
            finally:
                PyBuffer_Release(&view)
        self._held = views
        pthread_mutex_lock(&self._s.mutex)
        self._s.fd, self._s.iovcnt, self._s.offset = fd, count, offset
        self._s.sync = 1 if sync else 0
        self._s.has_job = 1
        pthread_cond_signal(&self._s.cond)
        pthread_mutex_unlock(&self._s.mutex)

    def result(self):
        """The finished job's (bytes_written, failed_stage, errno); None while it runs."""
        cdef uint64_t count
        cdef ssize_t got
        if self._held is None or self._closed:
            return None
        while True:  # the worker writes the eventfd after storing the outcome
            got = read(self._s.eventfd, &count, 8)
            if got == 8:
                break
            if got < 0 and errno == EINTR:
                continue
            if got < 0 and errno == EAGAIN:
                return None
            raise OSError(errno, os.strerror(errno), "journal-io worker: reading the eventfd")
        pthread_mutex_lock(&self._s.mutex)
        outcome = (self._s.written, self._s.stage, self._s.error)
        pthread_mutex_unlock(&self._s.mutex)
        self._held = None
        return outcome

    cdef void _stop_thread(self):
        """Tell the thread to end once its job (if any) is done, and join it. C fields
        only, so __dealloc__ may call it."""
        pthread_mutex_lock(&self._s.mutex)
        self._s.closing = 1
        pthread_cond_signal(&self._s.cond)
        pthread_mutex_unlock(&self._s.mutex)
        with nogil:
            pthread_join(self._thread, NULL)

    def close(self):
        """Let a running job finish, stop the thread, close the eventfd. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._started and self._pid == os.getpid():
            self._stop_thread()
        self._held = None
        if self._s.eventfd >= 0:
            os.close(self._s.eventfd)
            self._s.eventfd = -1

    def __dealloc__(self):
        if self._s == NULL:
            return
        if self._started and not self._closed and self._pid == os.getpid():
            self._stop_thread()
            if self._s.eventfd >= 0:
                os.close(self._s.eventfd)
        if self._pid == os.getpid() or not self._started:
            # (in a forked child the condvar still counts the parent's waiting thread:
            # glibc's pthread_cond_destroy would wait for it forever; leak it instead)
            pthread_cond_destroy(&self._s.cond)
            pthread_mutex_destroy(&self._s.mutex)
            free(self._s.iov)
            free(self._s)
        self._s = NULL
