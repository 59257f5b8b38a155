"""Scripted misbehaving SMTP servers for the network-fault tests (tests/reliability/).

    with FaultyPeer("127.0.0.2", fault="reset_mid_data") as peer:
        ... the daemon delivers to peer.host:peer.port ...
        peer.connections, peer.commands, peer.messages, peer.faults_injected

A FaultyPeer is a tests/helpers/sink.py SmtpSink (same thread-per-connection server,
same records) that misbehaves in one scripted way, named by ``fault``:

``reset_mid_data``   TCP RST (SO_LINGER 0) after the first body chunk following 354
``hang_after_354``   answers 354, then swallows the body and never answers
``slow_replies``     every reply trickles out one byte per ``byte_interval`` seconds
``garbage_reply``    the greeting is binary garbage, not an SMTP reply
``oversized_reply``  the EHLO reply is ``oversized_lines`` continuation lines of 1000 bytes
``tls_fail``         offers STARTTLS, answers 220, then writes garbage instead of a ServerHello
``cert_mismatch``    real STARTTLS, with a certificate the client cannot verify (``tls``)
``421_mid_session``  answers ``421 4.3.2`` to the first RCPT and closes the connection

Only loopback addresses; it never decides a test's outcome. ``faults_injected`` counts
connections on which the fault actually fired.
"""
from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from .sink import SmtpSink, _Hangup, _Session

FAULTS = ("reset_mid_data", "hang_after_354", "slow_replies", "garbage_reply", "oversized_reply",
          "tls_fail", "cert_mismatch", "421_mid_session")
GARBAGE = b"\x00\xff\xfeHTTP/1.1 400 Bad Request\r\n\x1b[31m\x80\x81\x82 not smtp at all\r\n"


@dataclass
class FaultyPeer(SmtpSink):
    fault: str = "reset_mid_data"
    byte_interval: float = 1.0
    oversized_lines: int = 2000

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; known: {', '.join(FAULTS)}")
        super().__post_init__()
        self.faults_injected = 0
        if self.fault == "421_mid_session":
            self.rcpt_default = "421 4.3.2 shutting down, try later"

    def fired(self) -> None:
        with self._lock:
            self.faults_injected += 1

    def _serve(self, client: socket.socket, peer: tuple[str, int], index: int) -> None:
        session = _FaultySession(self, client, peer, index)
        try:
            session.run()
        except (OSError, _Hangup):
            pass
        finally:
            with self._lock:
                self._active -= 1
            try:
                session.sock.close()
            except OSError:
                pass


class _FaultySession(_Session):
    sink: FaultyPeer

    def step(self, name: str) -> None:
        fault = self.sink.fault
        if fault == "reset_mid_data" and name == "body":
            self.sink.fired()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise _Hangup
        if fault == "hang_after_354" and name == "data":
            self.sink.fired()
            self.send(self.sink.data_reply)
            self.sock.settimeout(0.2)
            while not self.sink._stop.is_set():  # swallow the body, answer nothing, until EOF
                try:
                    if not self.sock.recv(65536):
                        break
                except TimeoutError:
                    continue
            raise _Hangup
        super().step(name)

    def send(self, reply: str) -> None:
        fault = self.sink.fault
        if fault == "garbage_reply" and reply == self.sink.banner:
            self.sink.fired()
            self.sock.sendall(GARBAGE)
            return
        if fault == "oversized_reply" and reply.startswith("250-sink.test hello"):
            self.sink.fired()
            filler = "X" * 995
            self.sock.sendall(b"".join(f"250-{filler}\r\n".encode() for _ in range(self.sink.oversized_lines)))
            super().send(reply)
            return
        if fault == "tls_fail" and reply.startswith("220 2.0.0 ready for TLS"):
            self.sink.fired()
            super().send(reply)
            self.sock.sendall(GARBAGE)
            raise _Hangup
        if fault == "cert_mismatch" and reply.startswith("220 2.0.0 ready for TLS"):
            self.sink.fired()
        if fault == "slow_replies":
            self.sink.fired()
            for byte in reply.encode() + b"\r\n":
                if self.sink._stop.wait(self.sink.byte_interval):
                    raise _Hangup
                self.sock.sendall(bytes([byte]))
            return
        super().send(reply)
        if fault == "421_mid_session" and reply.startswith("421"):
            self.sink.fired()
            raise _Hangup
