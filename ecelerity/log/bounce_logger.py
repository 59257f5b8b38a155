"""bounce_logger: the bouncelog (Momentum's 16-field ``@`` records with a classification code).

Built from the ``bounce_logger`` module stanza (``BounceLogger.from_config(cfg)``; options
bouncelog, bouncelog_mode, heartbeat, log_inband_bounces, log_outofband_bounces,
log_transient_failures; declared in modules/bounce_logger.py). In the daemon,
log/service.py's LogHub hands it every event through ``record(facts)``; ``log_bounce`` is for a permanent failure
(in-band; ``out_of_band=True`` for an asynchronous DSN, stage 21) and ``log_transient``
for a temporary one; ``record(facts)`` takes events already built by log/facts.py.

The classification code (momentum-facts.md §2.8) comes from the result's
``classification`` when the caller set it, else from ecelerity/bounce/classify.py (the
bounce code's classifier, with its override rules). Construction, ``from_config`` and
the start/flush/reopen/close life cycle come from log/lifecycle.py's StanzaLogger.
Never blocks and never raises into the caller.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from ecelerity.bounce.classify import CODES
from ecelerity.bounce.classify import classify as classify_reply

from . import facts as event_facts
from . import records
from .lifecycle import StanzaLogger
from .writer import LogWriter

MODULE = "bounce_logger"
OUT_OF_BAND_STAGE = 21

# Momentum's classification names (momentum-facts.md §2.8), from the bounce classifier
CLASSIFICATION_NAMES = {code: name for code, (name, _category) in CODES.items()}


def classify(code: Any, enhanced: Any, text: Any) -> int:
    """The classification code of one SMTP response (ecelerity/bounce/classify.py)."""
    try:
        number = int(code or 0)
    except (TypeError, ValueError):
        number = 0
    return classify_reply(number, str(enhanced or ""), str(text or ""))


class BounceLogger(StanzaLogger):
    """One bounce_logger instance: the bouncelog file, its switches and heartbeat."""

    MODULE = MODULE

    def open_writers(self, log_dir: str, writer_args: dict[str, Any]) -> None:
        path = self.settings.get("bouncelog") or os.path.join(log_dir, "bouncelog.ec")
        self.writer = LogWriter(str(path), mode=self.settings.get("bouncelog_mode", 0o644),
                                name="bouncelog", **writer_args)

    @classmethod
    def from_config(cls, cfg: Any, *, report: Callable[[str, str], None] | None = None,
                    **kwargs: Any) -> BounceLogger | None:
        """The first ``bounce_logger`` stanza of ``cfg``, or None without one."""
        return cls.first_from_config(cfg, report=report, **kwargs)

    def record(self, facts: Mapping[str, Any]) -> None:
        """Write the bouncelog line of a permanent failure, bounce or transient failure."""
        event = facts.get("event")
        if event == "transient_failure":
            if not self.settings.get("log_transient_failures", True):
                return
            kind = "T"
        elif event in ("permanent_failure", "bounce"):
            out_of_band = facts.get("stage") == OUT_OF_BAND_STAGE
            switch = "log_outofband_bounces" if out_of_band else "log_inband_bounces"
            if not self.settings.get(switch, True):
                return
            kind = "B"
        else:
            return
        line_facts = dict(facts, type=kind)
        if line_facts.get("classification") is None:
            line_facts["classification"] = classify(facts.get("code"), facts.get("enhanced"),
                                                    facts.get("text"))
        self.writer.write_line(records.bouncelog_line(line_facts, self.hires))

    def log_bounce(self, msg: Any, result: Any, *, out_of_band: bool = False,
                   when: float | None = None) -> None:
        """B: ``msg`` failed permanently (an out-of-band DSN logs stage 21)."""
        facts = event_facts.attempt_facts(msg, result, "B", now=self._now(when),
                                          binding_group_of=self.binding_group_of)
        if out_of_band:
            facts["stage"] = OUT_OF_BAND_STAGE
        self.record(facts)

    def log_transient(self, msg: Any, result: Any, *, when: float | None = None) -> None:
        """T: a transient failure (when ``log_transient_failures`` is on)."""
        self.record(event_facts.attempt_facts(msg, result, "T", now=self._now(when),
                                              binding_group_of=self.binding_group_of))

    def heartbeat(self, when: float | None = None) -> None:
        self.writer.write_line(records.bouncelog_heartbeat(self._now(when), self.hires))
