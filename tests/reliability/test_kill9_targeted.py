"""kill -9 at targeted moments: during spool-in after a restart, and during DSN generation.

1. Spool-in: a spool of SPOOLED messages (600; 5,000 with ECELERITY_SOAK=1) written with
   delivery suspended; the daemon is restarted and SIGKILLed at random instants inside
   its start-up (between exec and ready, where spool-in runs), ROUNDS times. A last clean
   start must find exactly the same messages: none lost, none duplicated, nothing
   quarantined.
2. DSN generation: one message to RCPTS recipients whose MX (a sink) answers 550 to all
   of them, so the daemon writes DSNs to the sender (whose MX is the same sink and takes
   them). The daemon is SIGKILLed at random instants while it does so, ROUNDS times,
   then runs to the end. Every recipient must be reported in a delivered DSN (lost = 0);
   recipients reported twice (a DSN stored, then the kill before the failed recipient's
   removal was durable) are counted.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
from collections import Counter

import pytest

from tests.helpers.daemon import daemon_env, ecelerity_command, free_port, start_daemon
from tests.helpers.dns_server import start_dns
from tests.helpers.inject import Injector, wait_for_smtp
from tests.helpers.sink import SmtpSink
from tests.reliability.conftest import SOAK, scale
from tests.reliability.probes import spool_state, wait_for

ROUNDS = scale(4, 20)
SPOOLED = scale(600, 5000)
RCPTS = scale(150, 1000)
FINAL_RECIPIENT = re.compile(rb"Final-Recipient:\s*rfc822;\s*(\S+)", re.I)


@pytest.fixture
def control_dir():
    path = tempfile.mkdtemp(prefix="ec-k9-", dir="/tmp")  # unix socket paths must stay short
    yield path
    shutil.rmtree(path, ignore_errors=True)


def control(path: str) -> str:
    return f'Control_Listener {{ Listen "{path}/control.sock" {{ File_Mode = 0600 }} }}\n'


def kill_during_startup(cwd, delay: float) -> int:
    """Start the daemon on cwd's config and SIGKILL it ``delay`` seconds after exec."""
    proc = subprocess.Popen(ecelerity_command("-c", "ecelerity.conf", "--foreground"), cwd=str(cwd),
                            env=daemon_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait(10)


@pytest.mark.timeout(600 if SOAK else 90)
def test_kill9_during_spool_in(tmp_path, control_dir, figures):
    seed = int(os.environ.get("ECELERITY_KILL9_SEED", time.time()))
    rng = random.Random(seed)
    port = free_port()
    config = ('Suspend_Delivery = true\nrelay_domains = ( "example.com" )\n' + control(control_dir)
              + f'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')
    cwd = tmp_path / "daemon"
    with start_daemon(config, cwd) as daemon:
        wait_for_smtp("127.0.0.1", port)
        Injector("127.0.0.1", port, sessions=8, body_size=1500, prefix="s-").run(SPOOLED)
        assert daemon.stop() == 0, daemon.diagnostics()
    before = spool_state(cwd / "var" / "spool")
    started = time.monotonic()
    with start_daemon(config, cwd) as daemon:  # how long a start with this spool takes
        ready = time.monotonic() - started
        assert daemon.stop() == 0, daemon.diagnostics()
    delays = [rng.uniform(0.3 * ready, ready) for _ in range(ROUNDS)]
    statuses = [kill_during_startup(cwd, delay) for delay in delays]
    with start_daemon(config, cwd) as daemon:
        assert daemon.stop() == 0, daemon.diagnostics()
    after = spool_state(cwd / "var" / "spool")
    ids_before = Counter(m["id"] for m in before["messages"])
    ids_after = Counter(m["id"] for m in after["messages"])
    lost, duplicated = ids_before - ids_after, {i: n for i, n in ids_after.items() if n > 1}
    figures("kill9_spool_in", seed=seed, rounds=ROUNDS, spooled=len(ids_before),
            start_seconds=round(ready, 2), kill_delays=[round(d, 2) for d in delays],
            killed=sum(s == -9 for s in statuses), lost=sum(lost.values()), duplicated=len(duplicated),
            quarantined=len(after["quarantined"]))
    assert len(ids_before) >= SPOOLED * 0.95, len(ids_before)
    assert not lost and not duplicated, (seed, list(lost)[:5], list(duplicated)[:5])
    assert not after["quarantined"], after["quarantined"]
    assert statuses.count(-9) == ROUNDS, statuses


@pytest.mark.timeout(600 if SOAK else 90)
def test_kill9_during_dsn_generation(tmp_path, control_dir, figures):
    seed = int(os.environ.get("ECELERITY_KILL9_SEED", time.time()))
    rng = random.Random(seed)
    port = free_port()
    recipients = [f"u{n:04d}@a.test" for n in range(RCPTS)]
    with start_dns(mx=[("a.test", "mx.test", 10), ("ret.test", "mx.test", 10)],
                   hosts={"mx.test": ["127.0.0.2"]}) as dns, \
            SmtpSink("127.0.0.2", rcpt_default="550 5.1.1 no such user",
                     rcpt_replies={"s@ret.test": "250 2.1.5 ok"}, dot_delay=0.05) as sink:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver 127.0.0.1:{dns.port}\n")
        config = (f'resolv_conf = "{resolv}"\nremote_smtp_port = {sink.port}\nhostname = "mta.test"\n'
                  'relay_domains = ( "a.test" )\nconnect_timeout = 2\nretry_interval = 1\n'
                  f'max_retry_interval = 1\n{control(control_dir)}'
                  f'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ max_recipients_per_message = {RCPTS} }} }}\n')
        cwd = tmp_path / "daemon"
        delays, after_round = [], []

        def reported() -> Counter:
            return Counter(m.group(1).decode().lower() for msg in list(sink.messages) if not msg.mail_from
                           for m in FINAL_RECIPIENT.finditer(msg.body))

        for round_number in range(ROUNDS):
            daemon = start_daemon(config, cwd)
            try:
                if round_number == 0:
                    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                        client.ehlo("c.test")
                        client.mail("s@ret.test")
                        for rcpt in recipients:
                            assert client.rcpt(rcpt)[0] == 250
                        assert client.data(b"From: s@ret.test\r\nSubject: doomed\r\n\r\nbody\r\n")[0] == 250
                    # The first kill follows the first DSN the sink takes, so it lands inside DSN
                    # work however fast this machine is (the sink takes 50 ms per DSN).
                    wait_for(lambda: any(not m.mail_from for m in list(sink.messages)), 30, "the first DSN",
                             daemon.diagnostics)
                    delays.append(rng.uniform(0.0, 0.1))
                else:
                    delays.append(rng.uniform(0.05, 0.6))
                time.sleep(delays[-1])
            finally:
                daemon.kill()
            after_round.append(sum(1 for m in list(sink.messages) if not m.mail_from))
        with start_daemon(config, cwd) as daemon:
            wait_for(lambda: set(recipients) <= set(reported()), 60, "a DSN for every recipient",
                     lambda: f"{len(set(recipients) - set(reported()))} missing\n{daemon.diagnostics()}")
            wait_for(lambda: not spool_busy(daemon), 30, "an empty queue", daemon.diagnostics)
            assert daemon.stop() == 0, daemon.diagnostics()
        left = spool_state(cwd / "var" / "spool")["messages"]
    counts = reported()
    lost = [r for r in recipients if counts[r] == 0]
    duplicated = sum(n - 1 for r, n in counts.items() if n > 1)
    dsn_messages = sum(1 for m in sink.messages if not m.mail_from)
    figures("kill9_dsn", seed=seed, rounds=ROUNDS, recipients=RCPTS, kill_delays=[round(d, 2) for d in delays],
            dsn_messages=dsn_messages, dsns_at_sink_after_each_kill=after_round, lost=len(lost), duplicated=duplicated, left_in_spool=len(left))
    assert not lost, (seed, lost[:10])
    assert 0 < after_round[0] < RCPTS or len(set(after_round)) > 1, f"no kill fell inside DSN work: {after_round}"
    assert not left, left[:3]
    assert set(counts) <= set(recipients), set(counts) - set(recipients)


def spool_busy(daemon) -> bool:
    """True while the console's ``summary`` shows a message still queued or in flight."""
    reply = daemon.command("summary")
    assert reply.ok, reply.body
    counts = {line.split(":")[0].strip(): line.split(":")[1].strip() for line in reply.body if ":" in line}
    return int(counts["Total Queue Size"]) > 0 or int(counts["Outbound Concurrency"]) > 0
