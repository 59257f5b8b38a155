"""The benchmark sink counts what a real smtp-sink wrote and times the probe's messages."""
from __future__ import annotations

import smtplib
import time

from benchmarks.harness.probe import probe_message
from benchmarks.harness.sink import Sink
from tests.helpers.tools import need_tool


def test_sink_counts_dump_files_recipients_sessions_and_probe_arrivals():
    need_tool("smtp-sink")
    sink = Sink().start()
    try:
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
            client.sendmail("a@example.org", ["x@example.com", "y@example.com"],
                            b"Subject: plain\r\n\r\nbody\r\n")
            sent_at = time.time() - 0.25  # as if the MTA had held it for 250 ms
            client.sendmail("probe@example.org", ["rcpt@example.com"],
                            probe_message("probe0000001", 600, sent_at))
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
            client.sendmail("a@example.org", ["z@example.com"], b"Subject: third\r\n\r\nbody\r\n")
        count, _ = sink.wait_for(3, stall=5)
        assert count == 3
        assert sink.recipients() == 4
        [arrival] = sink.probe_arrivals()
        assert 0.2 <= arrival < 5.0
    finally:
        sink.stop()
    try:
        assert sink.sessions() == 2
    finally:
        sink.cleanup()
    assert not sink.base.exists()
