"""The ``fanout`` scenario: one message to R recipients across D domains, all routed to one sink.

Who calls it: scenarios.py. The message is sent once (one SMTP transaction, R RCPTs);
ecelerity routes every domain to the sink by ``gateway``, Postfix by ``relayhost``.
Measured: seconds from the 250 after DATA to the last dump file the sink wrote (its
mtime), recipients counted at the sink (X-Rcpt-Args lines in the dump files), transactions (dump files) and connections
(sessions the sink saw end, once the peer has been stopped), CPU of the peer. It must
count recipients at the sink, never trust the sender, and always stop peer and sink.
"""
from __future__ import annotations

import smtplib
import time
from typing import Callable

from . import procstat
from .peers import Peer
from .sink import Sink


def run_fanout(make_peer: Callable[[int], Peer], recipients: int, domains: int,
               progress: Callable[[str], None], *, timeout: float = 120.0) -> dict:
    sink = Sink().start()
    peer = make_peer(sink.port)
    rcpts = [f"user{n:04d}@d{n % domains:02d}.fanout.example" for n in range(recipients)]
    body = ("From: fanout@example.org\r\nTo: undisclosed-recipients:;\r\nSubject: fanout\r\n"
            "Message-ID: <fanout@example.org>\r\n\r\n" + "fan out line\r\n" * 100)
    try:
        peer.start()
        before = procstat.cpu_by_name(peer.processes(), peer.root_pid)
        with smtplib.SMTP("127.0.0.1", peer.port, timeout=60) as client:
            refused = client.sendmail("fanout@example.org", rcpts, body)
        accepted_at = time.perf_counter()
        accepted_wall = time.time()
        counted = 0
        last_change = accepted_at
        while counted < recipients - len(refused) and time.perf_counter() - last_change < timeout:
            time.sleep(0.1)
            now = sink.recipients()
            if now != counted:
                counted, last_change = now, time.perf_counter()
            progress(f"{peer.name:10s} fanout: {counted}/{recipients} recipients at the sink")
        samples = peer.processes()
        after = procstat.cpu_by_name(samples, peer.root_pid)
    finally:
        peer.stop()
        sink.stop()
    try:
        transactions = sink.count()
        connections = sink.sessions()
        last_arrival = max((path.stat().st_mtime for path in sink.files()), default=accepted_wall)
    finally:
        peer.cleanup()
        sink.cleanup()
    cpu = sum(max(0.0, sec - before.get(name, 0.0)) for name, sec in after.items())
    return {"peer": peer.name, "size": len(body), "sessions": 1, "recipients": recipients,
            "domains": domains, "refused_at_rcpt": len(refused), "received_recipients": counted,
            "seconds_to_deliver_all": round(max(0.0, last_arrival - accepted_wall), 3),
            "transactions": transactions, "connections": connections, "cpu_s": round(cpu, 3),
            "peak_rss_kb_max": max((s.hwm_kb for s in samples), default=0),
            "lost": max(0, recipients - len(refused) - counted), "smtp_source_exit": 0}
