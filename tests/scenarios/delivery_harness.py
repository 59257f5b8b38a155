"""Shared set-up for the outbound delivery scenarios (tests/scenarios/test_delivery_*.py).

    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        daemon = world.start_daemon(extra='max_recipients_per_batch = 2')
        world.send("s@b.test", ["x@a.test"], make_body("hello"))
        wait_until(lambda: len(world.sink("127.0.0.2").messages) == 1)

A world is: a real dnsmasq serving, per test domain, one MX host of equal preference
per given 127.0.0.x address (``mx0.<domain>``, ``mx1.<domain>``...), a resolv.conf naming it (``nameserver 127.0.0.1:PORT``),
one scripted SmtpSink per distinct address, all on one shared port (the daemon's
``remote_smtp_port``), and a real ``ecelerity`` process whose ESMTP listener is on a
free port of 127.0.0.1 and relays to those domains. Nothing here decides a test's
outcome: it builds, injects and waits. Only loopback addresses; everything stops on exit.
"""
from __future__ import annotations

import hashlib
import smtplib
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from tests.helpers.daemon import DaemonProcess, free_port, start_daemon
from tests.helpers.dns_server import DnsServer, start_dns
from tests.helpers.sink import SmtpSink

RECEIVED_PREFIX = b"Received: "


def make_body(marker: str, *, lines: int = 20) -> bytes:
    """A message with its own Message-ID and Date (so the daemon adds only Received:)."""
    head = (f"From: Sender <s@b.test>\r\nTo: r@a.test\r\nSubject: {marker}\r\n"
            f"Message-ID: <{marker}@b.test>\r\nDate: Thu, 24 Sep 2015 13:40:03 -0700\r\n\r\n")
    text = "".join(f"{marker} line {i} .. with trailing space \r\n" for i in range(lines))
    return (head + text + ".leading dot line\r\n").encode()


def strip_received(data: bytes) -> bytes:
    """The message without the one Received: header the daemon prepends (folded lines too)."""
    assert data.startswith(RECEIVED_PREFIX), data[:80]
    end = data.index(b"\r\n")
    while data[end + 2:end + 3] in (b"\t", b" "):
        end = data.index(b"\r\n", end + 2)
    return data[end + 2:]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0,
               what: str = "condition", daemon: DaemonProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = f"\n{daemon.diagnostics()}" if daemon is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(0.02)


class ConcurrencyMeter:
    """Open connections across several sinks now, and the most ever open at once."""

    def __init__(self) -> None:
        self.open = 0
        self.high_water = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.open += 1
            self.high_water = max(self.high_water, self.open)

    def leave(self) -> None:
        with self._lock:
            self.open -= 1


class MeteredSink(SmtpSink):
    """An SmtpSink that also counts into a shared meter and can answer the final dot
    ``dot_delay`` seconds late (a slow receiver: deliveries overlap in time)."""

    def __init__(self, *args, meter: ConcurrencyMeter, dot_delay: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meter, self.dot_delay = meter, dot_delay
        self.dot_times: list[float] = []

    def _serve(self, client, peer, index) -> None:
        self.meter.enter()
        try:
            super()._serve(client, peer, index)
        finally:
            self.meter.leave()

    def _record(self, message) -> str:
        with self._lock:
            self.dot_times.append(time.monotonic())
        if self.dot_delay:
            time.sleep(self.dot_delay)
        return super()._record(message)


def start_metered_sinks(hosts: list[str], meter: ConcurrencyMeter, **script) -> list[MeteredSink]:
    """One MeteredSink per loopback IP, all on one free port (like sink.start_sinks)."""
    for _ in range(20):
        first = MeteredSink(hosts[0], meter=meter, **script).start()
        started = [first]
        try:
            for host in hosts[1:]:
                started.append(MeteredSink(host, port=first.port, meter=meter, **script).start())
            return started
        except OSError:
            for sink in started:
                sink.stop()
    raise RuntimeError(f"no common free port on {hosts}")


def settle(seconds: float) -> None:
    """Let time pass so that something that must NOT happen (a retry, a second copy,
    a DSN) would have happened by now; keep ``seconds`` just above the interval in play."""
    time.sleep(seconds)


@dataclass
class RelayWorld:
    tmp_path: Path
    dns: DnsServer
    sinks: list[MeteredSink]
    domains: dict[str, list[str]]
    meter: ConcurrencyMeter
    smtp_port: int = field(default_factory=free_port)
    daemons: list[DaemonProcess] = field(default_factory=list)

    @property
    def sink_port(self) -> int:
        return self.sinks[0].port

    def sink(self, host: str) -> MeteredSink:
        return next(s for s in self.sinks if s.host == host)

    def all_messages(self) -> list:
        return [m for s in self.sinks for m in s.messages]

    def config(self, extra: str = "") -> str:
        resolv = self.tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver 127.0.0.1:{self.dns.port}\n")
        relay = " ".join(f'"{d}"' for d in self.domains)
        return (f'resolv_conf = "{resolv}"\n'
                f"remote_smtp_port = {self.sink_port}\n"
                f"relay_domains = ( {relay} )\n"
                "hostname = \"mta.test\"\nehlo_hostname = \"mta.test\"\n"
                "connect_timeout = 5\nretry_interval = 1\nmax_retry_interval = 1\n"
                f"{extra}\n"
                f'ESMTP_Listener {{ Listen "127.0.0.1:{self.smtp_port}" {{ }} }}\n')

    def start_daemon(self, extra: str = "", **kwargs) -> DaemonProcess:
        daemon = start_daemon(self.config(extra), self.tmp_path / "daemon", **kwargs)
        self.daemons.append(daemon)
        return daemon

    def send(self, mail_from: str, rcpts: list[str], body: bytes, *,
             mail_options: tuple[str, ...] = (), rcpt_options: tuple[str, ...] = ()) -> str:
        """Inject one message with smtplib; returns the queue id from the 250 reply."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
            client.ehlo("client.test")
            client.mail(mail_from, list(mail_options))
            for rcpt in rcpts:
                code, text = client.rcpt(rcpt, list(rcpt_options))
                assert code == 250, (rcpt, code, text)
            code, text = client.data(body)
            assert code == 250, (code, text)
            return text.decode().split()[-1]


@contextmanager
def relay_world(tmp_path: Path, *, domains: dict[str, list[str]], **sink_script) -> Iterator[RelayWorld]:
    """dnsmasq + sinks for ``domains`` (domain -> sink IPs: one MX host ``mxN.<domain>``
    per IP, all of preference 10, so delivery spreads over them);
    ``sink_script`` goes to every sink (SmtpSink knobs, ``dot_delay``)."""
    hosts = sorted({ip for ips in domains.values() for ip in ips})
    mx = [(domain, f"mx{n}.{domain}", 10) for domain, ips in domains.items() for n in range(len(ips))]
    records = {f"mx{n}.{domain}": [ip] for domain, ips in domains.items() for n, ip in enumerate(ips)}
    with start_dns(mx=mx, hosts=records) as dns:
        meter = ConcurrencyMeter()
        sinks = start_metered_sinks(hosts, meter, **sink_script)
        world = RelayWorld(Path(tmp_path), dns, sinks, domains, meter)
        try:
            yield world
        finally:
            for daemon in world.daemons:
                daemon.__exit__(None, None, None)
            for sink in sinks:
                sink.stop()
