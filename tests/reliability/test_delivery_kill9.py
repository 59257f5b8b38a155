"""Crash safety WITH delivery: kill -9 the real daemon while it receives and delivers.

A real dnsmasq points ``a.test`` at an SmtpSink on 127.0.0.2 that answers the final dot
a little late (``dot_delay``), so at any instant some messages are in DATA, some sit in
the spool and some are mid-delivery. Each round starts the daemon on the same spool,
injects continuously (tests/helpers/inject.py: a unique marker per message, every
final reply recorded), and SIGKILLs it after a random delay. A last run lets the spool
drain. Then, counted at the sink: every message that got a 250 must have arrived
(lost == 0, with its exact bytes after our Received: line); messages delivered more than
once are counted and reported (the unavoidable window: a crash between the sink's 250
and our spool removal), as are messages the sink got that were never acknowledged.
Bounded: 3 rounds (~35 s); ``ECELERITY_SOAK=1`` runs 30. ``ECELERITY_KILL9_SEED`` replays.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import time
from collections import Counter

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.dns_server import start_dns
from tests.helpers.inject import Injector, wait_for_smtp
from tests.helpers.sink import SmtpSink
from tests.reliability.conftest import SOAK, scale
from tests.reliability.probes import wait_for

ROUNDS = scale(3, 30)
OUTBOUND = 8
MARKER = re.compile(rb"\r\nX-Inject-Marker: (\S+)\r\n")


class SlowSink(SmtpSink):
    """Answers the final dot ``dot_delay`` seconds late: deliveries overlap the kill."""
    dot_delay = 0.02

    def _record(self, message):
        time.sleep(self.dot_delay)
        return super()._record(message)


def delivered_markers(sink: SmtpSink) -> Counter:
    return Counter(m.group(1).decode() for msg in list(sink.messages)
                   if (m := MARKER.search(msg.body)) is not None)


@pytest.mark.slow
@pytest.mark.timeout(600 if SOAK else 120)
def test_no_acknowledged_message_is_lost_across_kill9_with_delivery(tmp_path, figures):
    seed = int(os.environ.get("ECELERITY_KILL9_SEED", time.time()))
    rng = random.Random(seed)
    smtp_port = free_port()
    with start_dns(mx=[("a.test", "mx.a.test", 10)], hosts={"mx.a.test": ["127.0.0.2"]}) as dns, \
            SlowSink("127.0.0.2") as sink:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver 127.0.0.1:{dns.port}\n")
        config = (f'resolv_conf = "{resolv}"\nremote_smtp_port = {sink.port}\n'
                  'relay_domains = ( "a.test" )\nhostname = "mta.test"\n'
                  "connect_timeout = 2\nretry_interval = 1\nmax_retry_interval = 1\n"
                  f"max_outbound_connections = {OUTBOUND}\n"
                  f'ESMTP_Listener {{ Listen "127.0.0.1:{smtp_port}" {{ }} }}\n')
        cwd = tmp_path / "daemon"
        records = []
        delays = []
        for round_number in range(ROUNDS):
            daemon = start_daemon(config, cwd)
            try:
                wait_for_smtp("127.0.0.1", smtp_port)
                injector = Injector("127.0.0.1", smtp_port, sessions=4, recipient="r@a.test",
                                    body_size=rng.choice([800, 4000, 30000]),
                                    prefix=f"k{round_number:02d}-", timeout=10.0)
                injector.start()
                delays.append(rng.uniform(0.4, 1.5))
                time.sleep(delays[-1])
                daemon.kill()  # SIGKILL: mid-DATA, mid-delivery, mid-fsync, wherever it is
                assert daemon.proc.returncode == -9
            finally:
                daemon.kill()
            injector.stop()
            records.extend(injector.records)
        acked = {r.marker: r for r in records if r.acked}
        daemon = start_daemon(config, cwd)  # spool-in, then drain to the sink
        with daemon:
            wait_for(lambda: set(acked) <= set(delivered_markers(sink)), 60,
                     "every acknowledged message at the sink",
                     lambda: f"missing {sorted(set(acked) - set(delivered_markers(sink)))[:10]}\n"
                             + daemon.diagnostics())
            assert daemon.stop() == 0, daemon.diagnostics()
        seen = delivered_markers(sink)
        lost = sorted(set(acked) - set(seen))
        duplicated = {marker: n for marker, n in seen.items() if n > 1}
        unacked_delivered = sorted(set(seen) - set(acked))
        corrupt = []
        for msg in sink.messages:
            match = MARKER.search(msg.body)
            record = acked.get(match.group(1).decode()) if match else None
            if record is not None and hashlib.sha256(msg.body[-record.size:]).hexdigest() != record.sha256:
                corrupt.append(record.marker)
        summary = dict(seed=seed, rounds=ROUNDS, injected=len(records), accepted=len(acked),
                       delivered=len(set(seen) & set(acked)), lost=len(lost),
                       duplicated=sum(n - 1 for n in duplicated.values()),
                       duplicate_window_bound=ROUNDS * OUTBOUND,  # one in-flight message per connection
                       delivered_unacknowledged=len(unacked_delivered), corrupt=len(corrupt),
                       kill_delays=[round(d, 2) for d in delays])
        print(f"\ndelivery kill -9: {summary}")
        figures("crash_delivery", **summary)
        assert not lost, f"seed {seed}: acknowledged but never delivered: {lost[:10]}"
        assert not corrupt, f"seed {seed}: delivered bytes differ: {corrupt[:10]}"
        assert len(acked) > 20, "hardly anything was accepted: the test proved nothing"
