"""Detaching from the terminal, and telling whoever started the daemon how start-up ended.

Who calls it: daemon/main.py (``daemonize`` unless ``--foreground``; a StartupReporter
either way, then ``ready`` or ``fail`` exactly once), daemon/workers.py (a worker
reports on the pipe its supervisor gave it, ``--report-fd``) and daemon/supervisor.py.
The status is the ``ecelerity`` command's exit status (EXIT_*): the process that
detached waits on a pipe and exits with what the daemon reported. Never starts
services, never logs to the paniclog (the caller does), never lets the detached
daemon keep the terminal's stdin/stdout/stderr once it is ready.
"""
from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_STARTUP_FAILED, EXIT_BAD_CONFIG = 0, 1, 2


class StartupReporter:
    """Tells whoever started us how start-up ended: stderr (foreground) or the detach pipe."""

    def __init__(self, pipe_fd: int | None = None):
        self.pipe_fd = pipe_fd

    def ready(self, message: str) -> None:
        if self.pipe_fd is None:
            sys.stderr.write(f"ecelerity: {message}\n")
            sys.stderr.flush()
            return
        self._send(b"0 " + message.encode("utf-8", errors="replace"))
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)

    def fail(self, code: int, message: str) -> int:
        if self.pipe_fd is None:
            sys.stderr.write(f"ecelerity: {message}\n")
            sys.stderr.flush()
        else:
            self._send(f"{code} {message}".encode("utf-8", errors="replace"))
        return code

    def _send(self, data: bytes) -> None:
        try:
            os.write(self.pipe_fd, data + b"\n")
            os.close(self.pipe_fd)
        except OSError:
            pass
        self.pipe_fd = None


def daemonize() -> StartupReporter:
    """Double fork + setsid. Only the detached grandchild returns; the caller's process
    exits with the start-up status the grandchild reports through a pipe."""
    read_fd, write_fd = os.pipe()
    first = os.fork()
    if first > 0:
        os.close(write_fd)
        chunks = []
        while chunk := os.read(read_fd, 4096):
            chunks.append(chunk)
        os.waitpid(first, 0)
        code_text, _, message = b"".join(chunks).decode("utf-8", errors="replace").strip().partition(" ")
        if not code_text.isdigit():
            code, message = EXIT_STARTUP_FAILED, "the daemon exited during start-up (see the paniclog)"
        else:
            code = int(code_text)
        if code != EXIT_OK:
            sys.stderr.write(f"ecelerity: {message}\n")
        sys.stderr.flush()
        os._exit(code)
    os.close(read_fd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    return StartupReporter(write_fd)
