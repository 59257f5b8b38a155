"""A real DNS server for tests: dnsmasq on 127.0.0.1:<free port> serving test zones.

    with start_dns(mx=[("a.test", "mx1.a.test", 10)],
                   hosts={"mx1.a.test": ["127.0.0.2"]}) as server:
        DnsResolver(nameserver=server.address)       # ("127.0.0.1", port)

Every name under ``local_domains`` (default ``test``) is answered by dnsmasq alone:
unknown names get NXDOMAIN, nothing is forwarded anywhere. ``raw`` adds records by
type number and hex RDATA (``("nullmx.test", 15, "000000")`` is ``MX 0 .``);
``ttl`` is the TTL of every answer. dnsmasq answers over UDP and TCP on the same
port and sets TC on UDP answers over 512 bytes (queries carry no EDNS), which is how
the truncation tests get a truncated answer. Used by delivery tests and scenarios.
Never binds anything but 127.0.0.1; the process is killed on exit.
"""
from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field

from .tools import need_tool


def _free_udp_tcp_port() -> int:
    """A port that is free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free UDP+TCP port on 127.0.0.1")


@dataclass
class DnsServer:
    """A running dnsmasq; ``address`` is what DnsResolver(nameserver=...) takes."""

    port: int
    process: subprocess.Popen
    args: list[str] = field(default_factory=list)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> DnsServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _record_args(mx, hosts, raw, local_domains) -> list[str]:
    args = [f"--local=/{name}/" for name in local_domains]
    args += [f"--mx-host={domain},{host},{pref}" for domain, host, pref in mx]
    for name, addresses in hosts.items():
        args += [f"--host-record={name},{address}" for address in addresses]
    args += [f"--dns-rr={name},{rrtype},{hexdata}" for name, rrtype, hexdata in raw]
    return args


def _answers(port: int) -> bool:
    """True once dnsmasq answers a query (any rcode) on UDP."""
    query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x05probe\x04test\x00\x00\x01\x00\x01")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(query, ("127.0.0.1", port))
            return sock.recv(512)[:2] == b"\x12\x34"
        except OSError:
            return False


def start_dns(*, mx: list[tuple[str, str, int]] = (), hosts: dict[str, list[str]] | None = None,
              raw: list[tuple[str, int, str]] = (), ttl: int = 0,
              local_domains: tuple[str, ...] = ("test",),
              extra_args: tuple[str, ...] | list[str] = ()) -> DnsServer:
    """Start dnsmasq with these records (plus ``extra_args``, e.g. ``--server=/zone/...``);
    returns once it answers (raises if it cannot)."""
    dnsmasq = need_tool("dnsmasq")
    records = _record_args(list(mx), hosts or {}, list(raw), local_domains) + list(extra_args)
    last_error = ""
    for _ in range(5):  # a port can be taken between probing and dnsmasq binding it
        port = _free_udp_tcp_port()
        args = [dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--pid-file=",
                f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--no-negcache", f"--local-ttl={ttl}",
                f"--auth-ttl={ttl}", *records]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(port):
                return DnsServer(port, process, args)
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
        process.wait()
        last_error = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if "Address already in use" not in last_error:
            break
    raise RuntimeError(f"dnsmasq did not start: {last_error.strip()}")
