"""What the compatibility loggers (compat_postfix.py, compat_exim.py) share.

A compatibility logger turns the daemon's events (log/facts.py dicts, handed out by
log/service.py's LogHub) into another MTA's log lines, so that MTA's log analysers
(pflogsumm, eximstats) read our traffic. Those MTAs log per *message as received*
(one queue id, many recipients), while Momentum's records are per recipient-message:
``BatchTracker`` maps batch ids to the recipient-messages still open, so the
"message done" line (Postfix ``removed``, Exim ``Completed``) is written once, after
the last recipient of a batch finished (only for batches received since the logger
started). The start/flush/reopen/close life cycle comes from log/lifecycle.py; writes
go through a LogWriter: never blocks, never raises into the caller.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .lifecycle import WriterLifecycle
from .writer import FLUSH_INTERVAL, LogWriter

FINAL_EVENTS = ("delivery", "permanent_failure", "xfer")


class BatchTracker:
    """Open recipient-messages per batch: first reception, and the last final outcome."""

    def __init__(self) -> None:
        self._open: dict[str, set[str]] = {}

    def received(self, batch_id: str, message_id: str) -> bool:
        """Note a reception; True when it is the first recipient-message of its batch."""
        first = batch_id not in self._open
        self._open.setdefault(batch_id, set()).add(message_id)
        return first

    def finished(self, batch_id: str, message_id: str) -> bool:
        """Note a final outcome; True when it closed the last open recipient of its batch."""
        members = self._open.get(batch_id)
        if members is None or message_id not in members:
            return False
        members.discard(message_id)
        if members:
            return False
        del self._open[batch_id]
        return True


class CompatLogger(WriterLifecycle):
    """A writer plus the LogHub sink life cycle; subclasses implement ``lines(facts)``."""

    def __init__(self, path: str, *, mode: int = 0o644, name: str = "compat",
                 report: Callable[[str, str], None] | None = None,
                 flush_interval: float = FLUSH_INTERVAL, use_threadpool: bool = True):
        self.writer = LogWriter(path, mode=mode, name=name, report=report,
                                flush_interval=flush_interval, use_threadpool=use_threadpool)
        self.batches = BatchTracker()

    def lines(self, facts: Mapping[str, Any]) -> list[str]:
        raise NotImplementedError

    def record(self, facts: Mapping[str, Any]) -> None:
        for line in self.lines(facts):
            self.writer.write_line(line)


def one_line(text: Any) -> str:
    """A value that can never break a log line."""
    return " ".join(str(text if text is not None else "").split())
