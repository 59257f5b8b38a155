"""What a Sieve++ script sees of the daemon during one run: the PolicyHost.

Built by phase_runner.py for every script run in a validation phase (and by the
offline tester with a fresh ValidationContext). The ext_momentum_* functions reach
the vctx, the configuration, the counters and throttles, and (``app``) the spool,
queue and DNS resolver only through it, so the engine itself stays free of daemon
imports. A terminal Sieve++ action records its
Outcome here; phase_runner.py turns it into the phase's SMTP reply. Never does I/O
itself, except the tarpit sleep, which only sleeps the calling (session) greenlet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ...policy.vctx import ValidationContext


@dataclass
class Outcome:
    """A terminal decision: kind is action | disconnect | reject | discard | keep."""

    kind: str
    code: int = 0
    text: str = ""
    counter: str = ""


class Counters:
    """Per-instance hit counters (``sieve:<inst> stats``).

    No lock: used only by the hub thread's greenlets, and no method blocks, so
    greenlets never interleave inside one.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def inc(self, name: str, by: int = 1) -> None:
        self._counts[name] += by

    def items(self) -> list[tuple[str, int]]:
        return sorted(self._counts.items())

    def get(self, name: str) -> int:
        return self._counts.get(name, 0)

    def reset(self) -> None:
        self._counts.clear()


@dataclass
class PolicyHost:
    """The daemon side of one script run (see module docstring)."""

    vctx: ValidationContext
    phase: str = "data"                       # Momentum phase name: connect, rcptto, each_rcpt...
    script_label: str = ""                    # e.g. "rcptto_phase1" (counter names)
    config: Any = None                        # config.resolver.Config or None (offline)
    message: Any = None                       # smtp.accept.InboundMessage in data phases
    recipient: Any = None                     # core.envelope.Recipient (rcptto, each_rcpt)
    mail_from: str = ""
    peer_ip: str = ""
    peer_port: int = 0
    local_ip: str = ""
    local_port: int = 0
    message_id: str = ""
    counters: Counters = field(default_factory=Counters)
    throttles: Any = None                     # ext_momentum_throttle.ThrottleCache
    log: Callable[[str], None] = lambda text: None
    can_sleep: bool = True                    # False offline: tarpit is recorded, not slept
    include_dirs: dict[str, str] | None = None
    spool_base: str | None = None
    outcome: Outcome | None = None
    notes: list[str] = field(default_factory=list)  # what happened, for the offline tester
    app: Any = None                           # the daemon app (spool, queue, DNS) or None offline
    dns: Any = None                           # delivery.dns.DnsResolver (ec_dns_lookup)
    audit: Any = None                         # policy.audit.SeriesStore (audit_*, ec_ip_*)
    shared_throttles: Any = None              # ThrottleCache of ec_shared_throttle_* (node-local)
    error_mode: str | None = None             # ec_error_mode: overrides runtime_error for the run
    injected: list[tuple[str, list[str], bytes]] | None = None  # offline injections

    @classmethod
    def template(cls, **fields: Any) -> dict[str, Any]:
        """The fields a hook passes on every call, once (``from_template`` per call).

        The instance's own ``__dict__``: a split-table dict (values only, the key table
        shared by every PolicyHost), which ``dict.copy`` keeps split (``dict()`` would not)."""
        return cls(None, **fields).__dict__.copy()  # type: ignore[arg-type]

    @classmethod
    def from_template(cls, template: dict[str, Any], vctx: ValidationContext,
                      phase: str, message: Any, recipient: Any) -> PolicyHost:
        """A fresh host from a ``template`` without running the 30-field __init__: the
        per-run mutable fields (notes, outcome, injected...) start as __init__ makes them.
        Its ``__dict__`` is a copy of the template: ~290 bytes of values per message
        instead of the ~830-byte combined table an ``update`` into a new dict builds."""
        host = cls.__new__(cls)
        state = template.copy()
        state["vctx"], state["phase"], state["message"], state["recipient"] = vctx, phase, message, recipient
        state["notes"], state["outcome"], state["injected"], state["error_mode"] = [], None, None, None
        host.__dict__ = state
        return host

    def terminal(self, outcome: Outcome) -> None:
        if self.outcome is None:
            self.outcome = outcome
        if outcome.counter:
            self.counters.inc(outcome.counter)

    def tarpit(self, seconds: float) -> None:
        self.notes.append(f"tarpit {seconds:g}s")
        if self.can_sleep:
            self.vctx.tarpit(seconds)
        else:
            self.vctx.tarpitted_seconds += max(0.0, float(seconds))

    def inject(self, mail_from: str, recipients: list[str], data: bytes) -> str:
        """Spool and queue a new message (generate_mail_raw, ec_forward, reject MDNs);
        returns its batch id. Offline (no app) it is recorded in ``injected``."""
        if not data.endswith(b"\n"):
            data += b"\r\n"
        spool = getattr(self.app, "spool", None)
        if spool is None:
            if self.injected is None:
                self.injected = []
            self.injected.append((mail_from, list(recipients), data))
            self.notes.append(f"inject <{mail_from}> -> {', '.join(recipients)}")
            return f"offline-{len(self.injected)}"
        import time

        from ...core.envelope import Envelope, Recipient
        envelope = Envelope(mail_from=mail_from, recipients=[Recipient(r) for r in recipients],
                            protocol="internal", peer_ip="127.0.0.1", received_at=time.time())
        batch = spool.store(envelope, data)  # returns once durable; only this greenlet waits
        queue = getattr(self.app, "queue_manager", None)
        if queue is not None:
            queue.admit(batch)
        self.log(f"injected {batch.batch_id} from <{mail_from}> to {len(recipients)} recipient(s)")
        return batch.batch_id
