"""A small SMTP injector that keeps exact books: what it sent, and what got the final 250.

Who calls it: crash-safety tests (tests/reliability/test_inbound_kill9.py) and the
benchmark harness (latency probe). It must never decide what counts as delivered for a
test: it records, per message, the unique marker and the SHA-256 of the exact DATA
content it sent, whether the final reply to DATA was 2xx, which queue id that reply
named, and the end-of-DATA -> reply latency. A message whose reply never arrived is
"not acked" (the server may or may not have stored it; either is allowed).

    inj = Injector("127.0.0.1", port, sessions=20, body_size=2048)
    inj.start(); ...; inj.stop()            # or inj.run(messages=1000)
    acked = [r for r in inj.records if r.acked]

Plain threads and blocking sockets (no gevent), one session per thread, each session
sends MAIL/RCPT/DATA sequentially (no PIPELINING) and reconnects after any error, so it
keeps injecting across a daemon restart. Loopback only is the caller's business.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import socket
import threading
import time
from dataclasses import dataclass

CRLF = b"\r\n"


@dataclass
class InjectRecord:
    """One message the injector tried to send."""

    marker: str
    sha256: str            # of the DATA content as the server must store it (unstuffed)
    size: int
    acked: bool = False
    reply: str = ""        # the final reply line to DATA ("" if none arrived)
    queue_id: str = ""     # last word of a 2xx reply
    latency: float | None = None  # seconds from sending "." to reading the reply


def make_message(marker: str, size: int, *, recipient: str = "rcpt@example.com") -> bytes:
    """The exact message bytes for ``marker`` (CRLF lines, no line starts with '.')."""
    head = (f"From: inject@example.org\r\nTo: {recipient}\r\nSubject: inject {marker}\r\n"
            f"Message-ID: <{marker}@inject.example.org>\r\n"
            f"Date: Thu, 24 Sep 2015 13:40:03 -0700\r\nX-Inject-Marker: {marker}\r\n\r\n").encode()
    seed = hashlib.sha256(marker.encode()).hexdigest().encode()
    lines = []
    total = len(head)
    n = 0
    while total < size:
        line = b"%06d " % n + seed + b" " + marker.encode() + CRLF
        lines.append(line)
        total += len(line)
        n += 1
    return head + b"".join(lines)


class SMTPFailure(Exception):
    """The server answered something unexpected, or went away."""


class _Session:
    def __init__(self, host: str, port: int, timeout: float, helo: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.expect(b"2")
        self.command(f"EHLO {helo}", b"2")

    def reply(self) -> str:
        while True:
            line = self.file.readline(4096)
            if not line:
                raise SMTPFailure("connection closed")
            if line[3:4] != b"-":
                return line.decode("latin-1").rstrip("\r\n")

    def expect(self, prefix: bytes) -> str:
        line = self.reply()
        if not line.encode("latin-1").startswith(prefix):
            raise SMTPFailure(line)
        return line

    def command(self, text: str, prefix: bytes) -> str:
        self.sock.sendall(text.encode() + CRLF)
        return self.expect(prefix)

    def close(self) -> None:
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, SMTPFailure):
            pass
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Injector:
    """``sessions`` threads sending unique messages until stopped (or ``messages`` sent)."""

    def __init__(self, host: str, port: int, *, sessions: int = 20, body_size: int = 2048,
                 sender: str = "inject@example.org", recipient: str = "rcpt@example.com",
                 timeout: float = 30.0, prefix: str = "m", retry_delay: float = 0.05) -> None:
        self.host, self.port = host, port
        self.sessions = sessions
        self.body_size = body_size
        self.sender, self.recipient = sender, recipient
        self.timeout = timeout
        self.prefix = prefix
        self.retry_delay = retry_delay
        self.records: list[InjectRecord] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._stop = threading.Event()
        self._limit: int | None = None
        self._threads: list[threading.Thread] = []

    # -- control -------------------------------------------------------------------
    def start(self, messages: int | None = None) -> None:
        self._limit = messages
        self._stop.clear()
        self._threads = [threading.Thread(target=self._worker, args=(n,), daemon=True,
                                          name=f"inject-{n}") for n in range(self.sessions)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.join(timeout)

    def join(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def run(self, messages: int) -> list[InjectRecord]:
        """Send ``messages`` messages over the sessions and wait for them."""
        self.start(messages)
        self.join()
        return self.records

    # -- results -------------------------------------------------------------------
    @property
    def acked(self) -> list[InjectRecord]:
        return [r for r in self.records if r.acked]

    def latencies(self) -> list[float]:
        return sorted(r.latency for r in self.records if r.acked and r.latency is not None)

    # -- the work ------------------------------------------------------------------
    def _next_marker(self) -> str | None:
        with self._lock:
            n = next(self._counter)
        if self._limit is not None and n >= self._limit:
            return None
        return f"{self.prefix}{n:08d}"

    def _worker(self, index: int) -> None:
        session: _Session | None = None
        marker = None
        while not self._stop.is_set():
            if marker is None:
                marker = self._next_marker()
                if marker is None:
                    break
            try:
                if session is None:
                    session = _Session(self.host, self.port, self.timeout, f"inject{index}.test")
                self._send_one(session, marker)
                marker = None
            except (OSError, SMTPFailure) as exc:
                with self._lock:
                    self.errors.append(f"{marker}: {type(exc).__name__}: {exc}")
                if session is not None:
                    session.close()
                    session = None
                marker = None if self._limit is None else marker  # a bounded run retries
                self._stop.wait(self.retry_delay)
        if session is not None:
            session.close()

    def _send_one(self, session: _Session, marker: str) -> None:
        message = make_message(marker, self.body_size, recipient=self.recipient)
        record = InjectRecord(marker, hashlib.sha256(message).hexdigest(), len(message))
        session.command(f"MAIL FROM:<{self.sender}>", b"2")
        session.command(f"RCPT TO:<{self.recipient}>", b"2")
        session.command("DATA", b"3")
        with self._lock:
            self.records.append(record)  # from here on the server may store it
        session.sock.sendall(message + b".\r\n")
        sent_at = time.perf_counter()
        reply = session.reply()
        record.latency = time.perf_counter() - sent_at
        record.reply = reply
        if reply.startswith("2"):
            record.acked = True
            record.queue_id = reply.split()[-1]
        else:
            raise SMTPFailure(reply)


def wait_for_smtp(host: str, port: int, timeout: float = 15.0) -> None:
    """Return once ``host:port`` answers with a 220 banner; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2.0) as sock:
                banner = sock.makefile("rb").readline(4096)
                if banner.startswith(b"220"):
                    sock.sendall(b"QUIT\r\n")
                    return
                last = banner.decode("latin-1").strip()
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.05)
    raise TimeoutError(f"no SMTP banner from {host}:{port} after {timeout}s ({last})")


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


__all__ = ["InjectRecord", "Injector", "SMTPFailure", "make_message", "percentile",
           "wait_for_smtp"]
