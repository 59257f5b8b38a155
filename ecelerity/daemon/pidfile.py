"""The pidfile: proves one daemon per configuration and tells operators which process it is.

``PidFile.acquire()`` opens (creating) the file, takes an exclusive ``flock`` on it and
writes our pid. It refuses when another process holds the lock, or when the file names
a process that is still alive (a daemon that does not lock, or a pid written by hand).
A pidfile naming a dead process is stale and is overwritten. The lock lives as long as
the open descriptor, so it survives the daemonizing forks (``rewrite()`` then puts the
final pid in). ``release()`` removes the file; called once at a clean exit.

Called by daemon/main.py only. Never kills or signals the process it finds.
"""
from __future__ import annotations

import errno
import fcntl
import os


class PidFileError(Exception):
    """The pidfile cannot be taken; str() is the operator-facing reason."""


def pid_is_alive(pid: int) -> bool:
    """True when a process with this pid exists (even one we may not signal)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(path: str) -> int | None:
    """The pid written in ``path``, or None when missing or not a number."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read(64).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class PidFile:
    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the pidfile for this process; raise PidFileError saying why not."""
        parent = os.path.dirname(self.path)
        try:
            if parent:
                os.makedirs(parent, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PidFileError(f"cannot open pidfile '{self.path}': {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                other = read_pid(self.path)
                who = f"process {other}" if other else "another process"
                raise PidFileError(
                    f"pidfile '{self.path}' is held by running {who}; is ecelerity already running?"
                ) from None
            raise PidFileError(f"cannot lock pidfile '{self.path}': {exc.strerror or exc}") from None
        other = read_pid(self.path)
        if other is not None and other != os.getpid() and pid_is_alive(other):
            os.close(fd)
            raise PidFileError(
                f"pidfile '{self.path}' names running process {other}; is ecelerity already running? "
                "(remove the file if that process is not ecelerity)"
            )
        self._fd = fd
        self.rewrite()

    def rewrite(self) -> None:
        """Write the current pid (after a fork the lock is ours but the pid changed)."""
        if self._fd is None:
            raise PidFileError(f"pidfile '{self.path}' is not held")
        data = f"{os.getpid()}\n".encode("ascii")
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)
            os.fsync(self._fd)
        except OSError as exc:
            raise PidFileError(f"cannot write pidfile '{self.path}': {exc.strerror or exc}") from None

    def release(self) -> None:
        """Remove the file (if it still holds our pid) and drop the lock. Never raises."""
        if self._fd is None:
            return
        try:
            if read_pid(self.path) == os.getpid():
                os.unlink(self.path)
        except OSError:
            pass
        try:
            os.close(self._fd)
        except OSError:
            pass
        self._fd = None
