"""Misbehaving DNS for the DNS-fault tests: a scripted server behind a real dnsmasq.

    with ScriptedDns() as scripted, start_faulty_dns(scripted, mx=[...], hosts={...}) as dns:
        resolv.conf -> "nameserver 127.0.0.1:<dns.port>"

The daemon only ever talks to the real dnsmasq (tests/helpers/dns_server.py's setup:
everything under ``test`` answered locally). dnsmasq forwards three zones to the
ScriptedDns on 127.0.0.1, which misbehaves by the zone's name:

``hole.test``      never answers (a black hole: the resolver's timeout must fire)
``servfail.test``  answers SERVFAIL
``loop.test``      answers every query with a CNAME loop (x -> other -> x)

Used by tests/reliability/test_dns_faults.py only; never binds anything but 127.0.0.1
and never decides a test's outcome. ``queries`` counts what reached the scripted server.
"""
from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from tests.helpers.dns_server import DnsServer, start_dns

SCRIPTED_ZONES = ("hole.test", "servfail.test", "loop.test")


class ScriptedDns:
    """A UDP DNS server on 127.0.0.1 whose answer depends on the zone asked about."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries: dict[str, int] = {zone: 0 for zone in SCRIPTED_ZONES}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="scripted-dns")

    def __enter__(self) -> ScriptedDns:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
                query = dns.message.from_wire(data)
            except (TimeoutError, socket.timeout):
                continue
            except Exception:  # noqa: BLE001 - a malformed datagram is ignored, as a server would
                continue
            name = query.question[0].name.to_text().lower()
            zone = next((z for z in SCRIPTED_ZONES if name.rstrip(".").endswith(z)), None)
            if zone is None:
                continue
            self.queries[zone] += 1
            if zone == "hole.test":
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if zone == "servfail.test":
                response.set_rcode(dns.rcode.SERVFAIL)
            else:
                other = "x.loop.test." if name != "x.loop.test." else "loop.test."
                response.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", other))
                response.answer.append(dns.rrset.from_text(other, 60, "IN", "CNAME", name))
            self.sock.sendto(response.to_wire(), peer)


def start_faulty_dns(scripted: ScriptedDns, *, mx: list[tuple[str, str, int]] = (),
                     hosts: dict[str, list[str]] | None = None,
                     raw: list[tuple[str, int, str]] = ()) -> DnsServer:
    """dnsmasq with these records, forwarding the scripted zones to ``scripted``."""
    forward = [f"--server=/{zone}/127.0.0.1#{scripted.port}" for zone in SCRIPTED_ZONES]
    return start_dns(mx=mx, hosts=hosts, raw=raw, extra_args=forward)
