"""SMTP conversation tracing (``trace smtp <ip> [file]`` / ``trace smtp off`` in the console).

Who calls it: the console (control/commands_tls_trace.py) starts and stops traces in the
process-wide ``REGISTRY``; the SMTP session asks ``tracer_for(session)`` once when it is
created and, when it gets a Tracer, hands it every chunk it received (``received``)
and every batch of replies it sends (``sent``), then ``close()`` at the end. The
session sees plaintext (after a STARTTLS handshake too), so the trace is the real
conversation, message bodies included.

A trace matches a peer IP or a CIDR network. Each line of the file is::

    2024-05-01 12:00:00.123 <conn_id> 127.0.0.1:40512 < EHLO client.test
    2024-05-01 12:00:00.124 <conn_id> 127.0.0.1:40512 > 250-mail.test

(``<`` from the client, ``>`` to it, ``*`` session start and end). The file is opened
in append mode with ``trace_smtp_mode`` permissions and written line-buffered (page-cache
writes only, no fsync: it is a debugging aid). Never raises into the session: a write
error stops that trace and is remembered in ``Trace.error`` for the console.
"""
from __future__ import annotations

import ipaddress
import os
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any


@dataclass
class Trace:
    """One ``trace smtp`` request: which peers, which file, what it has seen."""

    target: str  # as typed: an IP or a CIDR network
    network: Any  # ipaddress network the peer must be in
    path: str
    handle: IO[str] | None = None
    sessions: int = 0
    lines: int = 0
    error: str = ""
    started_at: float = field(default_factory=time.time)

    def matches(self, peer_ip: str) -> bool:
        try:
            return ipaddress.ip_address(peer_ip) in self.network
        except ValueError:
            return False

    def write(self, conn_id: str, peer: str, marker: str, text: str) -> None:
        if self.handle is None:
            return
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        try:
            for line in text.splitlines() or [""]:
                self.handle.write(f"{stamp} <{conn_id}> {peer} {marker} {line}\n")
                self.lines += 1
        except (OSError, ValueError) as exc:  # disk full, closed by 'trace smtp off'
            self.error = str(exc)
            self.close()

    def close(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            try:
                handle.close()
            except OSError:
                pass

    def describe(self) -> dict[str, Any]:
        return {"target": self.target, "file": self.path, "sessions": self.sessions,
                "lines": self.lines, "active": self.handle is not None, "error": self.error}


class Tracer:
    """One traced session: writes what it is handed to its Trace's file."""

    def __init__(self, trace: Trace, conn_id: str, peer_ip: str, peer_port: int) -> None:
        self.trace = trace
        self.conn_id = conn_id or "-"
        self.peer = f"{peer_ip}:{peer_port}"
        trace.sessions += 1
        trace.write(self.conn_id, self.peer, "*", "session start")

    def received(self, data: bytes) -> None:
        self.trace.write(self.conn_id, self.peer, "<", data.decode("utf-8", "replace"))

    def sent(self, data: bytes) -> None:
        self.trace.write(self.conn_id, self.peer, ">", data.decode("utf-8", "replace"))

    def close(self) -> None:
        self.trace.write(self.conn_id, self.peer, "*", "session end")


class TraceError(ValueError):
    """A trace cannot start (bad address, file not writable): the console's 400."""


class TraceRegistry:
    """The traces in force in this process (at most one per target)."""

    def __init__(self) -> None:
        self._traces: dict[str, Trace] = {}
        self._lock = threading.Lock()

    def start(self, target: str, path: str, *, mode: int = 0o640) -> Trace:
        """Trace sessions from ``target`` (IP or CIDR) into ``path`` (appended; made with ``mode``)."""
        try:
            network = ipaddress.ip_network(target, strict=False)
        except ValueError:
            raise TraceError(f"'{target}' is not an IP address or network") from None
        try:
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, mode)
            handle = os.fdopen(fd, "a", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise TraceError(f"cannot open trace file '{path}': {exc.strerror or exc}") from None
        trace = Trace(target, network, path, handle)
        with self._lock:
            old = self._traces.pop(target, None)
            self._traces[target] = trace
        if old is not None:
            old.close()
        return trace

    def stop(self, target: str | None = None) -> list[Trace]:
        """End one trace (by target as typed) or every trace; returns the ended ones."""
        with self._lock:
            if target is None:
                ended, self._traces = list(self._traces.values()), {}
            else:
                found = self._traces.pop(target, None)
                ended = [found] if found is not None else []
        for trace in ended:
            trace.close()
        return ended

    def traces(self) -> list[Trace]:
        with self._lock:
            return list(self._traces.values())

    def for_peer(self, peer_ip: str) -> Trace | None:
        """The trace a session from ``peer_ip`` belongs to (the most specific network)."""
        if not self._traces:  # the common case: one dict check per connection
            return None
        found = [t for t in self.traces() if t.handle is not None and t.matches(peer_ip)]
        return max(found, key=lambda t: t.network.prefixlen) if found else None


REGISTRY = TraceRegistry()


def tracer_for(session: Any) -> Tracer | None:
    """The Tracer for a new session (None, nearly always): what smtp/session.py calls."""
    trace = REGISTRY.for_peer(getattr(session, "peer_ip", ""))
    if trace is None:
        return None
    return Tracer(trace, str(getattr(session, "conn_id", "")), getattr(session, "peer_ip", ""),
                  int(getattr(session, "peer_port", 0) or 0))
