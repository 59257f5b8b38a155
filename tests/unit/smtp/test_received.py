"""ecelerity/smtp/received.py: the Received: date is formatted once per second and is
always the current second's RFC 5322 date."""
from __future__ import annotations

import email.utils
import time

from ecelerity.smtp import received


def _now_pair() -> tuple[str, str]:
    """(our date, the reference for the same second), retried across a second boundary."""
    while True:
        before = int(time.time())
        ours = received.rfc5322_date()
        if int(time.time()) == before:
            return ours, email.utils.formatdate(before, localtime=True)


def test_the_cached_date_is_the_current_seconds_date_even_after_a_stale_entry():
    received._last_date[:] = [int(time.time()) - 5, "Thu, 01 Jan 1970 00:00:00 +0000"]
    ours, reference = _now_pair()
    assert ours == reference
    assert received.rfc5322_date() in (reference, _now_pair()[1])


def test_an_explicit_time_is_formatted_not_cached():
    assert received.rfc5322_date(0.0) == email.utils.formatdate(0.0, localtime=True)
    header = received.received_header(helo="h", peer_ip="192.0.2.1", hostname="mx.test",
                                      protocol="ESMTP", msgid="A/B-1-2", when=86400.0)
    assert header.endswith(email.utils.formatdate(86400.0, localtime=True).encode() + b"\r\n")
