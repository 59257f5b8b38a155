"""The duplicate window, measured: how long after the remote 250 our removal is durable.

A message is delivered twice by our own fault when a crash falls between the remote
server's 250 and the durable removal record in our spool. This file measures that
window through the real daemon: N messages are spooled with delivery suspended, the
daemon restarts with delivery on (one connection, so hand-offs hold many messages),
a TimedSink stamps when it answered each message's final dot, and the mainlog ``D``
record (microsecond timestamps, ``log_hires_timestamp``; written after
``spool.remove`` returned, i.e. after the removal record was committed) stamps the
removal. Figures: the removal-latency distribution and, per message, how many later
messages of the same connection the sink had already acknowledged before the removal
(the number of duplicates a kill -9 at that instant would cost).

The first test checks the measurement (every delivered message has one D record, not
earlier than the sink's 250) and records the figures; the second states what the
window should be -- a message's removal durable before the connection's next message
is acknowledged (queue/results.py removes and logs each transaction's delivered
messages as soon as the remote answered, not after the whole hand-off).
"""
from __future__ import annotations

import re
import smtplib
import statistics
import time

import pytest

from ecelerity.log.records import split_at_record
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.dns_server import start_dns
from tests.helpers.sink import SmtpSink
from tests.reliability.conftest import scale
from tests.reliability.probes import log_lines, wait_for

MESSAGES = scale(110, 1000)
SUBJECT = re.compile(rb"\r\nSubject: dup (\d+)\r\n")


class TimedSink(SmtpSink):
    """Stamps (wall clock) the moment it answers each message's final dot."""
    dot_delay = 0.005

    def _record(self, message):
        time.sleep(self.dot_delay)
        reply = super()._record(message)
        message.answered_at = time.time()
        return reply


def inject(port: int, count: int) -> dict[str, int]:
    """batch id -> message number, over one session."""
    batches = {}
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.test")
        for n in range(count):
            client.mail("s@b.test")
            assert client.rcpt("r@a.test")[0] == 250
            code, text = client.data(f"From: s@b.test\r\nSubject: dup {n}\r\n\r\nbody {n}\r\n".encode())
            assert code == 250, text
            batches[text.decode().split()[-1]] = n
    return batches


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dup")
    smtp_port = free_port()
    with start_dns(mx=[("a.test", "mx.a.test", 10)], hosts={"mx.a.test": ["127.0.0.2"]}) as dns, \
            TimedSink("127.0.0.2") as sink:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver 127.0.0.1:{dns.port}\n")
        config = (f'resolv_conf = "{resolv}"\nremote_smtp_port = {sink.port}\n'
                  'relay_domains = ( "a.test" )\nhostname = "mta.test"\nlog_hires_timestamp = true\n'
                  "max_outbound_connections = 1\nSUSPEND"
                  'ec_logger "ec_logger" { mainlog = "var/log/mainlog.ec" heartbeat = 0 }\n'
                  f'ESMTP_Listener {{ Listen "127.0.0.1:{smtp_port}" {{ }} }}\n')
        cwd = tmp_path / "daemon"
        with start_daemon(config.replace("SUSPEND", "Suspend_Delivery = true\n"), cwd) as daemon:
            batches = inject(smtp_port, MESSAGES)
            assert daemon.stop() == 0, daemon.diagnostics()
        with start_daemon(config.replace("SUSPEND", ""), cwd) as daemon:
            wait_for(lambda: len(d_records(cwd, batches)) >= MESSAGES, 60, "a D record per message",
                     daemon.diagnostics)
            assert daemon.stop() == 0, daemon.diagnostics()
        removed = d_records(cwd, batches)
        answered = {}
        for message in sink.messages:
            number = int(SUBJECT.search(message.body).group(1))
            answered.setdefault(number, []).append((message.answered_at, message.connection))
    return removed, answered


def d_records(cwd, batches: dict[str, int]) -> dict[int, list[float]]:
    """message number -> the timestamps (seconds) of its mainlog D records."""
    found: dict[int, list[float]] = {}
    for line in log_lines(cwd):
        fields = split_at_record(line)
        if len(fields) > 4 and fields[4] == "D" and fields[2] in batches:
            found.setdefault(batches[fields[2]], []).append(int(fields[0]) / 1e6)
    return found


def overtaken(removed, answered) -> dict[int, int]:
    """message -> later messages of its connection acknowledged before its removal."""
    out = {}
    for number, [(at, connection)] in answered.items():
        removal = removed[number][0]
        out[number] = sum(1 for other, [(t, c)] in answered.items()
                          if c == connection and t > at and t < removal and other != number)
    return out


def test_removal_latency_after_the_remote_250(window, figures):
    removed, answered = window
    assert sorted(answered) == list(range(MESSAGES)), "a message was lost or never delivered"
    assert all(len(copies) == 1 for copies in answered.values()), "delivered twice without a crash"
    assert all(len(stamps) == 1 for stamps in removed.values())
    latencies = sorted(removed[n][0] - answered[n][0][0] for n in answered)
    assert latencies[0] > -0.005, f"a D record precedes the sink's 250 by {-latencies[0]:.4f}s"
    exposure = overtaken(removed, answered)
    figures("duplicate_window", messages=MESSAGES, connections=len({c for v in answered.values() for _, c in v}),
            removal_latency_p50_ms=round(statistics.median(latencies) * 1000, 1),
            removal_latency_p90_ms=round(latencies[int(len(latencies) * 0.9)] * 1000, 1),
            removal_latency_max_ms=round(latencies[-1] * 1000, 1),
            acknowledged_but_not_removed_max=max(exposure.values()),
            acknowledged_but_not_removed_mean=round(statistics.mean(exposure.values()), 1))


def test_removal_is_durable_before_the_next_message_is_acknowledged(window):
    removed, answered = window
    exposure = overtaken(removed, answered)
    assert max(exposure.values()) <= 1, f"up to {max(exposure.values())} messages exposed"
