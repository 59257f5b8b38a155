"""The ``idle`` scenario: N concurrent idle SMTP sessions (banner read, EHLO answered), RSS per session.

Who calls it: scenarios.py. Raises RLIMIT_NOFILE (soft up to the hard limit; as root
the hard limit too) in the harness process before starting the peer, so both the peer
(inherits it) and the harness's own client sockets fit. RSS per session = (VmRSS of
the peer's processes with N sessions open - VmRSS before, with one warm-up session) / N.
Postfix is not run here: it forks one smtpd per session (10,000 processes). It must
always close its sockets and stop the peer (finally).
"""
from __future__ import annotations

import resource
import time
from typing import Callable

from .peers import Peer
from .probe import connect_idle


def raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            wanted = hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


def run_idle(peer: Peer, sessions: int, progress: Callable[[str], None]) -> dict:
    limit = raise_nofile(2 * sessions + 1000)
    if limit < sessions + 200:
        raise RuntimeError(f"RLIMIT_NOFILE is {limit}: cannot hold {sessions} sessions")
    socks = []
    try:
        peer.start()
        socks = connect_idle("127.0.0.1", peer.port, 1)  # warm-up: the session code is imported
        time.sleep(0.5)
        pids = [s.pid for s in peer.processes()]
        before = rss_kb(pids)
        started = time.perf_counter()
        progress(f"{peer.name:10s} idle: opening {sessions} sessions")
        socks += connect_idle("127.0.0.1", peer.port, sessions, timeout=120)
        opened = time.perf_counter() - started
        time.sleep(1.0)
        samples = peer.processes()
        after = rss_kb([s.pid for s in samples])
        alive = sum(1 for s in socks if _still_open(s))
    finally:
        for sock in socks:
            sock.close()
        peer.stop()
        peer.cleanup()
    return {"peer": peer.name, "sessions": sessions, "size": 0, "nofile_limit": limit,
            "seconds_to_open": round(opened, 2), "open_at_end": alive,
            "rss_before_kb": before, "rss_after_kb": after, "processes": len(samples),
            "rss_per_session_kb": round((after - before) / sessions, 2),
            "lost": 0, "smtp_source_exit": 0}


def _still_open(sock) -> bool:
    try:
        data = sock.recv(1, 0x40)  # MSG_DONTWAIT: nothing to read on a live idle session
        return data != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
