"""A real, scripted SMTP sink for delivery tests: a thread-per-connection server on 127.0.0.x.

    with SmtpSink("127.0.0.2", rcpt_replies={"bad@a.test": "550 5.1.1 no such user"}) as sink:
        ... deliver to sink.host:sink.port ...
        sink.messages[0].rcpts, sink.messages[0].body, sink.messages[0].tls
        sink.connections, sink.max_concurrent, sink.peers

Runs in plain OS threads with blocking sockets, so it answers whether the test drives
gevent code in-process or a daemon subprocess. Script knobs: ``banner``,
``extensions`` (EHLO lines after the greeting), ``ehlo_reply`` (e.g. "500 no EHLO" to
force HELO), ``mail_reply``, ``rcpt_replies`` (address -> reply; others get
``rcpt_default``), ``data_reply`` (the 354 step), ``dot_replies`` (a list consumed one
per message, then ``dot_default``), ``tls`` = (certfile, keyfile) to offer STARTTLS,
``hang_at`` (one of banner/ehlo/mail/rcpt/data/dot: stop answering there, as a dead
server does) and ``close_at`` (same names, plus "body": drop the connection without a
reply; "body" closes after the first body chunk, which is a reset mid-DATA).
It records per message: envelope, parameters, unstuffed body bytes, TLS use, the
peer's source address and the connection index. ``start_sinks`` starts several sinks
on different loopback IPs sharing one port (so one ``remote_smtp_port`` reaches all).
"""
from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass, field


@dataclass
class SunkMessage:
    mail_from: str
    mail_params: list[str]
    rcpts: list[str]
    rcpt_params: list[list[str]]
    body: bytes
    tls: bool
    peer: tuple[str, int]
    helo: str
    connection: int


@dataclass
class SmtpSink:
    host: str = "127.0.0.2"
    port: int = 0
    banner: str = "220 sink.test ESMTP test sink"
    extensions: list[str] = field(default_factory=lambda: ["PIPELINING", "8BITMIME", "SIZE 10485760",
                                                           "ENHANCEDSTATUSCODES", "DSN"])
    ehlo_reply: str | None = None
    mail_reply: str = "250 2.1.0 sender ok"
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    rcpt_default: str = "250 2.1.5 recipient ok"
    data_reply: str = "354 go ahead"
    dot_replies: list[str] = field(default_factory=list)
    dot_default: str = "250 2.0.0 queued"
    tls: tuple[str, str] | None = None
    hang_at: str | None = None
    close_at: str | None = None
    dot_delay: float = 0.0

    def __post_init__(self) -> None:
        self.messages: list[SunkMessage] = []
        self.connections = 0
        self.max_concurrent = 0
        self.peers: list[tuple[str, int]] = []
        self.commands: list[str] = []
        self._active = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SmtpSink:
        listener = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, daemon=True, name=f"sink-{self.host}")
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> SmtpSink:
        return self.start() if self._listener is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, peer = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                index = self.connections
                self._active += 1
                self.max_concurrent = max(self.max_concurrent, self._active)
                self.peers.append(peer[:2])
                self._clients.append(client)
            thread = threading.Thread(target=self._serve, args=(client, peer[:2], index), daemon=True)
            thread.start()
            self._threads.append(thread)

    # -- one connection --------------------------------------------------------------------

    def _serve(self, client: socket.socket, peer: tuple[str, int], index: int) -> None:
        session = _Session(self, client, peer, index)
        try:
            session.run()
        except (OSError, ssl.SSLError, _Hangup):
            pass
        finally:
            with self._lock:
                self._active -= 1
            try:
                session.sock.close()
            except OSError:
                pass

    def _record(self, message: SunkMessage) -> str:
        with self._lock:
            self.messages.append(message)
            return self.dot_replies.pop(0) if self.dot_replies else self.dot_default


class _Hangup(Exception):
    pass


class _Session:
    def __init__(self, sink: SmtpSink, sock: socket.socket, peer: tuple[str, int], index: int):
        self.sink, self.sock, self.peer, self.index = sink, sock, peer, index
        self.buffer = b""
        self.tls = False
        self.helo = ""
        self.sock.settimeout(30)

    def step(self, name: str) -> None:
        if self.sink.close_at == name:
            raise _Hangup
        if self.sink.hang_at == name:
            self.sink._stop.wait(30)
            raise _Hangup

    def send(self, reply: str) -> None:
        self.sock.sendall(reply.encode() + b"\r\n")

    def line(self) -> str:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise _Hangup
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        text = line.decode("utf-8", "replace")
        with self.sink._lock:
            self.sink.commands.append(text)
        return text

    def run(self) -> None:
        self.step("banner")
        self.send(self.sink.banner)
        mail_from, mail_params, rcpts, rcpt_params = None, [], [], []
        while True:
            command = self.line()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.step("ehlo")
                self.helo = command[5:]
                if verb == "EHLO" and self.sink.ehlo_reply:
                    self.send(self.sink.ehlo_reply)
                elif verb == "EHLO":
                    extensions = list(self.sink.extensions)
                    if self.sink.tls and not self.tls:
                        extensions.append("STARTTLS")
                    lines = ["sink.test hello", *extensions]
                    self.send("\r\n".join(f"250{'-' if i < len(lines) - 1 else ' '}{text}"
                                          for i, text in enumerate(lines)))
                else:
                    self.send("250 sink.test")
            elif verb == "STARTTLS" and self.sink.tls:
                self.send("220 2.0.0 ready for TLS")
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(*self.sink.tls)
                self.sock = context.wrap_socket(self.sock, server_side=True)
                self.tls, self.buffer = True, b""
            elif verb == "MAIL":
                self.step("mail")
                parts = command[10:].split(" ")
                mail_from, mail_params, rcpts, rcpt_params = parts[0].strip("<>"), parts[1:], [], []
                self.send(self.sink.mail_reply)
            elif verb == "RCPT":
                self.step("rcpt")
                parts = command[8:].split(" ")
                address = parts[0].strip("<>")
                reply = self.sink.rcpt_replies.get(address.lower(), self.sink.rcpt_default)
                if reply.startswith("2"):
                    rcpts.append(address)
                    rcpt_params.append(parts[1:])
                self.send(reply)
            elif verb == "DATA":
                self.step("data")
                if not rcpts:
                    self.send("554 5.5.1 no valid recipients")
                    continue
                self.send(self.sink.data_reply)
                if not self.sink.data_reply.startswith("3"):
                    continue
                body = self.read_body()
                self.step("dot")
                if self.sink.dot_delay:
                    time.sleep(self.sink.dot_delay)  # a slow receiver: widens windows for kill tests
                reply = self.sink._record(SunkMessage(
                    mail_from or "", mail_params, rcpts, rcpt_params, body, self.tls,
                    self.peer, self.helo, self.index))
                self.send(reply)
            elif verb == "RSET":
                mail_from, mail_params, rcpts, rcpt_params = None, [], [], []
                self.send("250 2.0.0 reset")
            elif verb == "NOOP":
                self.send("250 2.0.0 ok")
            elif verb == "QUIT":
                self.send("221 2.0.0 bye")
                return
            else:
                self.send("502 5.5.2 not implemented")

    def read_body(self) -> bytes:
        lines = []
        first = True
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise _Hangup
                self.buffer += chunk
                if first:
                    first = False
                    self.step("body")
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            if line == b".":
                return b"".join(lines)
            lines.append((line[1:] if line.startswith(b".") else line) + b"\r\n")


def start_sinks(hosts: list[str], **script) -> list[SmtpSink]:
    """Start one sink per loopback IP, all on the same (free) port."""
    for _ in range(20):
        first = SmtpSink(hosts[0], **script).start()
        started = [first]
        try:
            for host in hosts[1:]:
                started.append(SmtpSink(host, port=first.port, **script).start())
            return started
        except OSError:
            for sink in started:
                sink.stop()
    raise RuntimeError(f"no common free port on {hosts}")
