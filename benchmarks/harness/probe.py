"""The latency probe: a few SMTP sessions beside the load, timing every message they send.

Who calls it: benchmarks/harness/relay.py (relay, policy, slowdisk). Each message carries
``X-Bench-Probe: <marker>`` and ``X-Bench-Sent: <unix time>`` (taken just before the
message body is sent), so the sink side can compute reception -> remote 250 from its
own arrival time; the probe itself measures end-of-DATA -> 250 (the time from sending
the final "." to reading the reply). Plain threads and blocking sockets. It must never
count anything as delivered: the sink's count is the result, the probe only times.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from tests.helpers.inject import SMTPFailure, _Session

SENT_HEADER = "X-Bench-Sent"
MARKER_HEADER = "X-Bench-Probe"


@dataclass
class ProbeRecord:
    marker: str
    sent_at: float                 # time.time() just before the body was sent
    eod_latency: float | None = None  # end-of-DATA -> 2xx, seconds
    acked: bool = False


def probe_message(marker: str, size: int, sent_at: float) -> bytes:
    head = (f"From: probe@example.org\r\nTo: rcpt@example.com\r\nSubject: probe {marker}\r\n"
            f"Message-ID: <{marker}@probe.example.org>\r\nDate: Thu, 24 Sep 2015 13:40:03 -0700\r\n"
            f"{MARKER_HEADER}: {marker}\r\n{SENT_HEADER}: {sent_at:.6f}\r\n\r\n").encode()
    line = b"probe line of text to pad the message to its size .......................\r\n"
    return head + line * max(0, (size - len(head)) // len(line))


class Probe:
    """``sessions`` threads sending one message at a time until stopped."""

    def __init__(self, host: str, port: int, *, sessions: int = 2, size: int = 2048,
                 recipient: str = "rcpt@example.com", pause: float = 0.0,
                 marker_prefix: str = "probe") -> None:
        self.host, self.port, self.sessions, self.size = host, port, sessions, size
        self.marker_prefix = marker_prefix  # unique per probe process (probe_process.py)
        self.recipient = recipient
        self.pause = pause
        self.records: list[ProbeRecord] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count = 0

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._worker, args=(n,), daemon=True)
                         for n in range(self.sessions)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    @property
    def acked(self) -> list[ProbeRecord]:
        return [r for r in self.records if r.acked]

    def eod_latencies(self) -> list[float]:
        return sorted(r.eod_latency for r in self.acked if r.eod_latency is not None)

    def _marker(self) -> str:
        with self._lock:
            self._count += 1
            return f"{self.marker_prefix}{self._count:07d}"

    def _worker(self, index: int) -> None:
        session = None
        while not self._stop.is_set():
            try:
                if session is None:
                    session = _Session(self.host, self.port, 60.0, f"probe{index}.test")
                self._send_one(session)
            except (OSError, SMTPFailure) as exc:
                with self._lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                if session is not None:
                    session.close()
                session = None
                self._stop.wait(0.05)
            if self.pause:
                self._stop.wait(self.pause)
        if session is not None:
            session.close()

    def _send_one(self, session) -> None:
        session.command("MAIL FROM:<probe@example.org>", b"2")
        session.command(f"RCPT TO:<{self.recipient}>", b"2")
        session.command("DATA", b"3")
        sent_at = time.time()
        record = ProbeRecord(self._marker(), sent_at)
        with self._lock:
            self.records.append(record)
        session.sock.sendall(probe_message(record.marker, self.size, sent_at) + b".\r\n")
        started = time.perf_counter()
        reply = session.reply()
        record.eod_latency = time.perf_counter() - started
        record.acked = reply.startswith("2")


def connect_idle(host: str, port: int, count: int, *, timeout: float = 30.0) -> list[socket.socket]:
    """``count`` sessions that read the banner, said EHLO, read the reply and now sit idle."""
    import selectors

    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    pending: dict[socket.socket, list] = {}
    deadline = time.monotonic() + timeout
    batch = 200
    for start in range(0, count, batch):
        for _ in range(min(batch, count - start)):
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setblocking(False)
            socks.append(sock)
            pending[sock] = ["banner", b""]
            sel.register(sock, selectors.EVENT_READ)
        while len(pending) > 100 and time.monotonic() < deadline:
            _drive(sel, pending, 1.0)
    while pending and time.monotonic() < deadline:
        _drive(sel, pending, 1.0)
    sel.close()
    if pending:
        raise TimeoutError(f"{len(pending)} of {count} idle sessions never completed EHLO")
    return socks


def _drive(sel, pending: dict, timeout: float) -> None:
    for key, _ in sel.select(timeout):
        sock = key.fileobj
        data = sock.recv(4096)
        if not data:
            raise ConnectionError("server closed an idle session during EHLO")
        state = pending[sock]
        state[1] += data
        if not _complete_reply(state[1]):
            continue
        if state[0] == "banner":
            state[0], state[1] = "ehlo", b""
            sock.sendall(b"EHLO idle.test\r\n")
        else:
            sel.unregister(sock)
            del pending[sock]


def _complete_reply(buf: bytes) -> bool:
    lines = buf.split(b"\r\n")
    return len(lines) > 1 and any(len(line) >= 4 and line[3:4] == b" " for line in lines[:-1])
