"""Crash safety end to end: SIGKILL the real daemon while clients inject, restart, count.

Each round starts ``ecelerity --foreground`` on the same spool, injects continuously with
tests/helpers/inject.py (20 sessions, a unique marker per message, every final reply
recorded) while Postfix's smtp-source adds load over 5 more sessions, SIGKILLs the
daemon after a random delay, restarts it on the same spool (spool-in), stops it cleanly
and reads the spool back. Every message that got a 250 must be there exactly once, with
its exact bytes (SHA-256 of what was sent; the daemon may only prepend Received:) and
the queue id its 250 named. "extra" (stored but never acknowledged: the client did not
see the 250) is allowed and reported. One summary line per round.

Delivery is suspended (Suspend_Delivery) so nothing leaves the spool between the 250
and the count. Bounded: ROUNDS=5 (well under 60 s); ``ECELERITY_SOAK=1`` runs 30 rounds.
``ECELERITY_KILL9_SEED`` replays a run.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import time
from collections import defaultdict

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.inject import Injector, wait_for_smtp
from tests.helpers.tools import need_tool
from tests.scenarios.smtp_harness import read_spool

SOAK = os.environ.get("ECELERITY_SOAK") == "1"
ROUNDS = 30 if SOAK else 5
CONF = 'Suspend_Delivery = true\nrelay_domains = ( "example.com" )\nESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n'
MARKER = re.compile(rb"\r\nX-Inject-Marker: (\S+)\r\n")
LOAD_FILE = ("From: load@example.org\nTo: load@example.com\nSubject: smtp-source load\n"
             "Message-ID: <load@example.org>\nDate: Thu, 24 Sep 2015 13:40:03 -0700\n\n"
             + "load line\n" * 150)


def start_load(port: int, message_file) -> subprocess.Popen:
    return subprocess.Popen([need_tool("smtp-source"), "-d", "-s", "5", "-m", "1000000",
                             "-F", str(message_file), "-f", "load@example.org",
                             "-t", "load@example.com", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stored_by_marker(spool_dir) -> tuple[dict[str, list[tuple[str, bytes]]], int]:
    """marker -> [(batch id, stored bytes)], and the number of smtp-source load messages."""
    found: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    load = 0
    for env, data, rcpts in read_spool(spool_dir):
        match = MARKER.search(data)
        if match is None:
            assert rcpts == ["load@example.com"], (env, data[:300])
            load += 1
            continue
        found[match.group(1).decode()].append((env["batch_id"], data))
    return found, load


def check_acked(records, found) -> list[str]:
    """Problems with acknowledged messages (empty when every one is intact)."""
    problems = []
    for record in records:
        if not record.acked:
            continue
        copies = found.get(record.marker, [])
        if len(copies) != 1:
            problems.append(f"{record.marker}: acked ({record.reply}) but stored {len(copies)} times")
            continue
        batch_id, data = copies[0]
        tail = data[-record.size:]
        if hashlib.sha256(tail).hexdigest() != record.sha256:
            problems.append(f"{record.marker}: stored bytes differ from the bytes sent")
        elif not data[:-record.size].startswith(b"Received: "):
            problems.append(f"{record.marker}: unexpected prefix {data[:-record.size][:120]!r}")
        if batch_id != record.queue_id:
            problems.append(f"{record.marker}: 250 named {record.queue_id}, spool has {batch_id}")
    return problems


@pytest.mark.slow
@pytest.mark.timeout(300 if SOAK else 120)
def test_every_250_survives_sigkill_of_the_daemon(tmp_path):
    load_file = tmp_path / "load.txt"
    load_file.write_text(LOAD_FILE)
    seed = int(os.environ.get("ECELERITY_KILL9_SEED", time.time()))
    rng = random.Random(seed)
    port = free_port()
    cwd = tmp_path / "daemon"
    spool_dir = cwd / "var" / "spool"
    all_records = []
    totals = defaultdict(int)
    for round_number in range(ROUNDS):
        daemon = start_daemon(CONF.format(port=port), cwd)
        try:
            wait_for_smtp("127.0.0.1", port)
            injector = Injector("127.0.0.1", port, sessions=20, body_size=rng.choice([600, 3000, 20000]),
                                prefix=f"r{round_number:02d}-", timeout=10.0)
            injector.start()
            load = start_load(port, load_file)
            delay = rng.uniform(0.3, 1.5)
            time.sleep(delay)
            daemon.kill()  # SIGKILL
            assert daemon.proc.returncode == -9
        finally:
            daemon.kill()
        injector.stop()
        load.kill()
        load.wait()
        all_records.extend(injector.records)

        restarted = start_daemon(CONF.format(port=port), cwd)  # spool-in of what survived
        with restarted:
            wait_for_smtp("127.0.0.1", port)
            assert restarted.stop() == 0, restarted.diagnostics()

        found, load_count = stored_by_marker(spool_dir)
        problems = check_acked(all_records, found)
        acked = sum(r.acked for r in all_records)
        acked_markers = {r.marker for r in all_records if r.acked}
        extra = sum(len(v) for k, v in found.items() if k not in acked_markers)
        round_acked = sum(r.acked for r in injector.records)
        print(f"round {round_number} seed {seed}: killed after {delay:.2f}s, acked this round "
              f"{round_acked} (total {acked}), found {acked - len(problems)}, lost {len(problems)}, "
              f"extra {extra}, smtp-source load stored {load_count}")
        assert not problems, f"seed {seed} round {round_number}: " + "; ".join(problems[:10])
        totals["acked"] = acked
        totals["rounds_with_acks"] += round_acked > 0
    assert totals["acked"] > 100, "the injector hardly got anything through: the test proved nothing"
    assert totals["rounds_with_acks"] == ROUNDS
