"""Log rotation under traffic: while messages flow, the mainlog is renamed and the daemon
told to reopen 20 times (console ``reopen logs``, SIGUSR1, ``ec_logger:<name> reopen
logs``); the union of all the files holds every R and D record exactly once."""
from __future__ import annotations

import signal
import threading
import time
from collections import Counter

from ecelerity.log.records import split_at_record
from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

MESSAGES = 40
ROTATIONS = 20
LOGGERS = 'ec_logger "main" { heartbeat = 0 }\n'


def _records(paths):
    found = Counter()
    for path in paths:
        for line in path.read_text().splitlines():
            fields = split_at_record(line)
            found[(fields[1], fields[4])] += 1
    return found


def test_twenty_rotations_under_traffic_lose_and_duplicate_nothing(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"]}) as world:
        daemon = world.start_daemon(extra=LOGGERS)
        logs = tmp_path / "daemon" / "var" / "log"
        mainlog = logs / "mainlog.ec"
        errors: list[BaseException] = []

        def traffic() -> None:
            try:
                for index in range(MESSAGES):
                    world.send("s@c.test", [f"r{index}@a.test"], make_body(f"m{index}", lines=2))
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        sender = threading.Thread(target=traffic)
        sender.start()
        ways = [lambda: daemon.command("reopen logs"),
                lambda: daemon.signal(signal.SIGUSR1),
                lambda: daemon.command("ec_logger:main reopen logs")]
        rotated = []
        for number in range(1, ROTATIONS + 1):
            wait_until(mainlog.exists, what="the daemon re-created the mainlog", daemon=daemon)
            target = logs / f"mainlog.ec.{number}"
            mainlog.rename(target)
            rotated.append(target)
            reply = ways[number % 3]()
            assert reply is None or reply.ok, reply
            time.sleep(0.03)
        sender.join(timeout=60)
        assert not errors, errors
        files = lambda: rotated + ([mainlog] if mainlog.exists() else [])  # noqa: E731
        wait_until(lambda: sum(1 for key in _records(files()) if key[1] == "D") == MESSAGES,
                   what=f"{MESSAGES} D records", daemon=daemon)
        daemon.stop()
        counts = _records(files())
        assert sorted(Counter(kind for _, kind in counts).items()) == [("D", MESSAGES),
                                                                        ("R", MESSAGES)]
        assert set(counts.values()) == {1}, [key for key, n in counts.items() if n > 1]
        assert sum(1 for path in rotated if path.stat().st_size > 0) >= 2  # really split
