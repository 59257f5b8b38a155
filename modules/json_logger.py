"""json_logger: the JSON-lines event log (one object per event, stable field names).

Registers ecelerity.log.jsonlog's module declaration (``logfile``, ``logfile_mode``,
``events``, ``heartbeat``); ``load(ctx)`` builds a JsonLog for this stanza (default file
``<logdir>/events.json``) and adds it to the daemon's log fan-out (``app.loggers``).
Importing this file has no side effect beyond defining MODULE.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any

from ecelerity.log.jsonlog import JSON_LOGGER_MODULE, JsonLog
from ecelerity.log.module_settings import octal_mode
from ecelerity.log.service import attach_module_logger


def _build(settings: dict[str, Any], env: dict[str, Any]) -> JsonLog:
    path = settings.get("logfile") or os.path.join(env["log_dir"], "events.json")
    events = settings.get("events") or ()
    if isinstance(events, str):
        events = [events]
    return JsonLog(str(path), events=events, mode=octal_mode(settings.get("logfile_mode")),
                   report=env["report"], heartbeat=settings.get("heartbeat", 60))


def load(ctx: Any) -> None:
    """Start this instance's JSON log and hand it to the daemon's log fan-out."""
    settings = {key.lower(): value for key, value in ctx.settings.items()}
    attach_module_logger(ctx, lambda env: _build(settings, env))


MODULE = dataclasses.replace(JSON_LOGGER_MODULE, load=load)
