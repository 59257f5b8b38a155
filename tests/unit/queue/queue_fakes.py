"""Test support for the queue tests: a scripted fake DeliveryEngine, a fake DSN builder,
a real spool factory and a polling helper.

The fakes stand in for ecelerity/delivery/engine.py and ecelerity/bounce/dsn.py (being
written in parallel) and follow their agreed contracts; they are used only by the
queue manager's unit tests. Everything else here is real: spool, config, gevent.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import gevent
import gevent.event

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.queue.clock import ManualClock
from ecelerity.queue.manager import QueueManager

CLOCK_LEAD = 5.0
REPLIES = {
    "delivered": (250, "2.0.0", "ok"),
    "transient": (451, "4.4.1", "try later"),
    "permanent": (550, "5.1.1", "no such user"),
    "unreachable": (421, "4.4.0", "[internal] connect to 192.0.2.1:25 failed: refused"),
}
# the Momentum connection stage each scripted outcome happens in (client.py codes)
STAGES = {"delivered": 9, "transient": 4, "permanent": 4, "unreachable": 0}


@dataclass
class FakeResult:
    """The fields of delivery/engine.py's DeliveryResult that the manager reads."""

    message_id: str
    outcome: str
    code: int
    enhanced: str
    text: str
    stage: int = 0
    remote_ip: str = "127.0.0.1"
    bytes_sent: int = 0
    conn_id: str = ""


class FakeEngine:
    """Answers every message with ``script(binding, domain, message) -> outcome``.

    Records each call (clock time, binding, domain, message ids) and the highest number
    of deliver() calls running at once, overall and per domain. With ``gate`` set,
    deliver() blocks until the gate opens, so concurrency can pile up.
    """

    def __init__(self, clock, script: Callable[[str, str, object], str] | None = None) -> None:
        self.clock = clock
        self.script = script or (lambda binding, domain, message: "delivered")
        self.calls: list[tuple[float, str, str, list[str]]] = []
        self.running: dict[str, int] = {}
        self.max_running: dict[str, int] = {}
        self.total_running = 0
        self.max_total_running = 0
        self.gate: gevent.event.Event | None = None

    def deliver(self, binding, domain, messages, on_results=None):
        self.calls.append((self.clock.now(), binding, domain, [m.id for m in messages]))
        self.running[domain] = self.running.get(domain, 0) + 1
        self.total_running += 1
        self.max_running[domain] = max(self.max_running.get(domain, 0), self.running[domain])
        self.max_total_running = max(self.max_total_running, self.total_running)
        try:
            if self.gate is not None:
                self.gate.wait()
            gevent.sleep(0)
            results = []
            for message in messages:
                outcome = self.script(binding, domain, message)
                code, enhanced, text = REPLIES[outcome]
                results.append(FakeResult(message.id, "transient" if outcome == "unreachable"
                                          else outcome, code, enhanced, text, STAGES[outcome]))
            if on_results is not None:
                on_results(results)  # one transaction's worth, like the real engine
            return results
        finally:
            self.running[domain] -= 1
            self.total_running -= 1

    def delivered_ids(self) -> list[str]:
        return [mid for _, _, _, ids in self.calls for mid in ids]


class FakeDsn:
    """build_dsn's contract: (envelope, body) to the original sender, None for ``<>``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str]] = []
        self.actions: list[tuple[str, str]] = []   # (message id, "failed" | "delayed")

    def __call__(self, msg, result, *, reason, cfg, body, action="failed"):
        self.calls.append((msg.id, None if result is None else result.outcome, reason))
        self.actions.append((msg.id, action))
        if not msg.envelope.mail_from:
            return None
        envelope = Envelope(mail_from="", recipients=[Recipient(msg.envelope.mail_from)])
        return envelope, b"Subject: failure\r\n\r\n" + reason.encode() + b"\r\n" + body[:20]


def wait_for(condition: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    deadline = gevent.get_hub().loop.now() + timeout
    while not condition():
        if gevent.get_hub().loop.now() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        gevent.sleep(0.005)


def store(spool: Spool, recipients: list[str], *, mail_from: str = "sender@origin.test",
          binding: str | None = None):
    envelope = Envelope(mail_from=mail_from, recipients=[Recipient(r) for r in recipients],
                        binding=binding)
    return spool.store(envelope, b"Subject: test\r\n\r\nhello\r\n")


class Rig:
    """A real spool and config, a ManualClock, a FakeEngine and a running manager."""

    def __init__(self, tmp_path, config_text: str = "", *, script=None, start: bool = True,
                 clock_start: float | None = None):
        # The spool stamps messages with the wall clock; start the manual clock a few
        # seconds ahead so a message stored "now" is due at once (created < clock).
        self.clock = ManualClock(time.time() + CLOCK_LEAD if clock_start is None else clock_start)
        self.spool = Spool(str(tmp_path / "spool"), fsync=False)
        self.config = load_config_text(config_text)
        self.engine = FakeEngine(self.clock, script)
        self.dsn = FakeDsn()
        self.log_lines: list[str] = []
        self.outcomes: list[tuple[str, str, str]] = []
        self.manager = QueueManager(self.config, self.spool, self.engine, clock=self.clock,
                                    dsn_builder=self.dsn, log=self.log_lines.append)
        self.manager.observers.append(
            lambda outcome, message, text: self.outcomes.append((outcome, message.id, text)))
        if start:
            self.manager.start()

    def store(self, recipients: list[str], **kwargs):
        batch = store(self.spool, recipients, **kwargs)
        self.manager.admit(batch)
        return batch

    def outcome_of(self, message_id: str) -> list[tuple[str, str]]:
        return [(o, text) for o, mid, text in self.outcomes if mid == message_id]

    def close(self) -> None:
        """Stop the manager and close the spool (idempotent)."""
        if self.spool is not None:
            self.manager.stop(timeout=1.0)
            self.spool.close()
            self.spool = None
