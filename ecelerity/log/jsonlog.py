"""The JSON-lines event log: every log event as one JSON object per line (beyond Momentum).

For log pipelines that should not parse ``@`` records. Each line is the event's facts
dict (log/facts.py) with these stable names; nothing is renamed between releases, new
names may be added:

- every event: ``event`` (reception delivery xfer transient_failure permanent_failure
  bounce rejection auth authz heartbeat), ``ts`` (epoch seconds, float, microseconds),
  ``time`` (the same instant as ISO-8601 UTC);
- message events: type message_id batch_id conn_id rcpt rcpt_local rcpt_domain sender
  from_local from_domain domain source_ip protocol size binding binding_group auth_user
  retries elapsed ctx_conn ctx_mess; receptions add helo nrcpt;
- attempts add: remote_ip stage code enhanced text response bytes_sent outcome
  (and classification for bounces);
- rejection: peer local conn_id pathway pathway_group phase code module ctx_conn
  ctx_mess text;
- auth / authz: type endpoint peer user result (command role).

Configured by a ``json_logger "name" { logfile = "..." logfile_mode = 0644 events = (...)
heartbeat = 60 }`` stanza (``events`` empty = all; ``heartbeat``: seconds between
``{"event":"heartbeat",...}`` lines, 0 = none; JSON_LOGGER_MODULE below declares it for
the module registry; start/flush/reopen/close and the heartbeat greenlet come from
log/lifecycle.py). Writes through a LogWriter, so it never blocks and never
raises into the caller.
"""
from __future__ import annotations

import datetime
import json
import os
import time
from typing import Any, Callable, Iterable, Mapping

from ecelerity.config.types import OCTAL_MODE, PATH, SECONDS, STRING_LIST
from ecelerity.modules import ModuleSpec, module_option

from .lifecycle import WriterLifecycle
from .module_settings import default_log_dir, instances, octal_mode
from .writer import FLUSH_INTERVAL, LogWriter

MODULE = "json_logger"
EVENTS = ("reception", "delivery", "xfer", "transient_failure", "permanent_failure", "bounce",
          "rejection", "auth", "authz", "heartbeat")

# The module declaration; modules/json_logger.py registers it (with its load()).
JSON_LOGGER_MODULE = ModuleSpec(
    name=MODULE, singleton=False, implemented=True,
    doc="JSON-lines event log (one object per event, stable field names)",
    options={
        "logfile": module_option("logfile", PATH, None, "path of the JSON log",
                                 implemented=True),
        "logfile_mode": module_option("logfile_mode", OCTAL_MODE, 0o644,
                                      "file mode of the JSON log", implemented=True),
        "events": module_option("events", STRING_LIST, [], "events to log (empty: all)",
                                implemented=True),
        "heartbeat": module_option("heartbeat", SECONDS, 60,
                                   "seconds between heartbeat events (0: none)",
                                   implemented=True),
    })


def _iso(ts: float) -> str:
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def json_line(facts: Mapping[str, Any]) -> str:
    """One event as a compact JSON object (keys sorted, so lines are stable and diffable)."""
    document = dict(facts)
    ts = float(document.get("ts") or 0.0)
    document["ts"] = round(ts, 6)
    document["time"] = _iso(ts)
    if "elapsed" in document:
        document["elapsed"] = round(float(document["elapsed"]), 6)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


class JsonLog(WriterLifecycle):
    """A JSON-lines log of the chosen events."""

    def __init__(self, path: str, *, events: Iterable[str] | None = None, mode: int = 0o644,
                 report: Callable[[str, str], None] | None = None,
                 flush_interval: float = FLUSH_INTERVAL, use_threadpool: bool = True,
                 heartbeat: float = 0, clock: Callable[[], float] = time.time):
        chosen = [event.lower() for event in (events or ())]
        unknown = sorted(set(chosen) - set(EVENTS))
        if unknown:
            raise ValueError(f"json_logger: unknown event(s) {', '.join(unknown)}; "
                             f"known: {', '.join(EVENTS)}")
        self.events = frozenset(chosen or EVENTS)
        self.writer = LogWriter(path, mode=mode, name="jsonlog", report=report,
                                flush_interval=flush_interval, use_threadpool=use_threadpool)
        self.heartbeat_interval = float(heartbeat or 0)
        self.clock = clock

    @classmethod
    def from_config(cls, cfg: Any, *, report: Callable[[str, str], None] | None = None,
                    **kwargs: Any) -> list[JsonLog]:
        """One JsonLog per ``json_logger`` stanza (default file ``<logdir>/events.json``)."""
        logs = []
        for instance in instances(cfg, MODULE):
            settings = {key.lower(): value for key, value in instance.settings.items()}
            if settings.get("enabled") is False:
                continue
            path = settings.get("logfile") or os.path.join(default_log_dir(cfg), "events.json")
            events = settings.get("events") or ()
            if isinstance(events, str):
                events = [events]
            logs.append(cls(str(path), events=events, mode=octal_mode(settings.get("logfile_mode")),
                            report=report, heartbeat=settings.get("heartbeat", 60), **kwargs))
        return logs

    def record(self, facts: Mapping[str, Any]) -> None:
        if facts.get("event") in self.events:
            self.writer.write_line(json_line(facts))

    def heartbeat(self, when: float | None = None) -> None:
        self.record({"event": "heartbeat", "ts": self.clock() if when is None else when})

    def heartbeat_seconds(self) -> float:
        return self.heartbeat_interval
