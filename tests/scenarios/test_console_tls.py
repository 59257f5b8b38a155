"""Scenario: the console's ``tls`` reports what really happened on a running daemon.

Inbound: one smtplib STARTTLS that succeeds and one client that answers the 220 with
plaintext garbage (a failed handshake). Outbound: a message to a domain whose sink offers
STARTTLS (handshake ok) and one to a domain whose certificate does not verify against the
configured CA (handshake failed, nothing sent in clear). The figures must be exactly
those; ``tls flush`` empties the server context cache.
"""
from __future__ import annotations

import json
import smtplib
import socket
import ssl
import time

from tests.helpers.certs import make_pki
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink

CONF = """
relay_hosts = ( "127.0.0.0/8" )
ESMTP_Listener {{
  tls_certificate = "{cert}"
  tls_key = "{key}"
  Listen "127.0.0.1:{port}" {{ }}
}}
Domain "good.test" {{ gateway = "127.0.0.2:{good}" tls = required tls_verify = no }}
Domain "bad.test" {{ gateway = "127.0.0.3:{bad}" tls = required tls_verify = ca tls_ca = "{other_ca}" }}
"""
MESSAGE = "From: s@src.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: tls\r\n\r\nx\r\n"


def figures(daemon) -> dict:
    reply = daemon.command("tls --json")
    assert reply.status == 200, (reply.status, reply.text)
    return json.loads("\n".join(reply.body))


def wait_for(what, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def failed_handshake(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO c.test\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(b"STARTTLS\r\n")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"this is not a TLS ClientHello\r\n" * 4)
        sock.settimeout(10)
        try:
            while sock.recv(4096):  # the daemon closes the connection
                pass
        except ConnectionResetError:
            pass


def test_tls_counts_handshakes_both_ways_and_the_context_cache(tmp_path):
    pki = make_pki(tmp_path)
    good = SmtpSink("127.0.0.2", tls=(str(pki.server_cert), str(pki.server_key))).start()
    bad = SmtpSink("127.0.0.3", tls=(str(pki.server_cert), str(pki.server_key))).start()
    port = free_port()
    conf = CONF.format(cert=pki.server_cert, key=pki.server_key, port=port, good=good.port,
                       bad=bad.port, other_ca=pki.other_ca_cert)
    try:
        with start_daemon(conf, tmp_path / "d") as daemon:
            start = figures(daemon)
            assert start["inbound"] == {"handshakes_ok": 0, "handshakes_failed": 0}
            assert start["outbound"] == {"handshakes_ok": 0, "handshakes_failed": 0}
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.starttls(context=ssl.create_default_context(cafile=str(pki.ca_cert)))
                client.ehlo("c.test")
                client.sendmail("s@src.test", ["r@good.test"], MESSAGE)
                client.sendmail("s@src.test", ["r@bad.test"], MESSAGE)
            failed_handshake(port)
            wait_for("delivery to good.test", lambda: len(good.messages) == 1)
            wait_for("a STARTTLS at bad.test", lambda: bad.commands.count("STARTTLS") >= 1)
            wait_for("figures", lambda: figures(daemon)["outbound"]["handshakes_failed"] >= 1
                     and figures(daemon)["inbound"]["handshakes_failed"] == 1)
            now = figures(daemon)
            assert now["inbound"] == {"handshakes_ok": 1, "handshakes_failed": 1}
            assert now["outbound"]["handshakes_ok"] == 1
            assert now["outbound"]["handshakes_failed"] == bad.commands.count("STARTTLS")
            assert good.messages[0].tls is True and bad.messages == []
            cache = now["server_context_cache"]
            assert cache["size"] == 1 and cache["built"] == 1 and cache["max"] >= 1
            text = daemon.command("tls").body
            assert text[0] == "Inbound TLS handshakes: 1 ok, 1 failed"
            assert text[2] == f"Server TLS context cache: 1 of {cache['max']} (1 built since start)"
            assert daemon.command("tls flush").body == ["1 TLS context(s) dropped"]
            assert figures(daemon)["server_context_cache"]["size"] == 0
            assert daemon.command("tls nonsense").status == 400
    finally:
        good.stop()
        bad.stop()
