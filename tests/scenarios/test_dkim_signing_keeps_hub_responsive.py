"""Scenario: while a batch of messages is signed with a 2048-bit key (opendkim module,
OpenSSL RSA in gevent's threadpool), new SMTP sessions still get their banner at once,
and every message arrives signed with a signature the real OpenDKIM accepts.

Senders run in threads (one SMTP session each, several messages per session); a probe
thread opens fresh sessions for as long as the batch runs and times each banner.
"""
from __future__ import annotations

import smtplib
import statistics
import threading
import time

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.opendkim import genkey, opendkim_verify
from tests.helpers.sink import SmtpSink
from tests.scenarios.test_console_queue import wait_for

SENDERS, PER_SENDER = 6, 8
BANNER_BUDGET_S = 0.5   # one 2048-bit signature in dkimpy's pure Python is 7-25 ms

CONF = """
relay_hosts = ( "127.0.0.0/8" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "dest.test" {{ gateway = "127.0.0.3:{sink}" }}
opendkim "signer" {{
  key = "{keys}/%{{d}}/%{{s}}.key"
  dkim_domain "example.test" {{ selector = "big" }}
}}
"""


def _sender(port: int, index: int, errors: list[str]) -> None:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for n in range(PER_SENDER):
                client.sendmail("a@example.test", ["b@dest.test"],
                                f"From: a@example.test\r\nTo: b@dest.test\r\n"
                                f"Subject: batch {index}-{n}\r\n\r\n" + "body line\r\n" * 50)
    except (OSError, smtplib.SMTPException) as exc:
        errors.append(f"sender {index}: {exc!r}")


def _probe(port: int, done: threading.Event, banners: list[float]) -> None:
    while not done.is_set():
        start = time.monotonic()
        client = smtplib.SMTP("127.0.0.1", port, timeout=10)   # returns once the banner is read
        banners.append(time.monotonic() - start)
        client.quit()


def test_banners_stay_quick_while_2048_bit_signatures_run(tmp_path):
    key = genkey(tmp_path / "keys", "example.test", "big", bits=2048)
    port = free_port()
    with SmtpSink("127.0.0.3") as sink, start_daemon(
            CONF.format(port=port, sink=sink.port, keys=tmp_path / "keys"), tmp_path):
        errors: list[str] = []
        banners: list[float] = []
        done = threading.Event()
        senders = [threading.Thread(target=_sender, args=(port, i, errors))
                   for i in range(SENDERS)]
        probe = threading.Thread(target=_probe, args=(port, done, banners))
        started = time.monotonic()
        for thread in senders:
            thread.start()
        probe.start()
        for thread in senders:
            thread.join(60)
        done.set()
        probe.join(15)
        batch_s = time.monotonic() - started
        assert not errors, errors
        total = SENDERS * PER_SENDER
        wait_for(f"{total} deliveries", lambda: len(sink.messages) == total)
        assert all(m.body.startswith(b"DKIM-Signature: ") or b"\r\nDKIM-Signature: " in m.body
                   for m in sink.messages)
        print(f"{total} signed in {batch_s:.2f} s; {len(banners)} probe banners, median "
              f"{statistics.median(banners) * 1000:.1f} ms, max {max(banners) * 1000:.1f} ms")
        assert banners and max(banners) < BANNER_BUDGET_S, banners
        assert opendkim_verify(sink.messages[-1].body, [key])[0] == 0
