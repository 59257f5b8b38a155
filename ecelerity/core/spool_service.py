"""The spool as a daemon service: open it, read it back in (spool-in), close it.

Runs before the queue and the SMTP listener, so both find ``app.spool`` (the one
Spool of this process; it holds an exclusive lock on its directory) and
``app.spool_in`` (the SpoolInReport of start-up: messages to requeue, files
quarantined). Options: ``spoolbase``, ``force_fsync`` and ``spool_mode`` (all
non-dynamic: a reload that changes them is logged and takes effect at restart).
Never touches spool files itself; everything goes through core.spool.Spool.
"""
from __future__ import annotations

import time
from typing import Any

from .spool import Spool, SpoolError

NON_DYNAMIC = ("spoolbase", "force_fsync", "spool_mode")


class SpoolService:
    name = "spool"

    def __init__(self) -> None:
        self.spool: Spool | None = None
        self.app: Any = None

    def start(self, app: Any) -> None:
        from ecelerity.daemon.service import StartupError

        self.app = app
        cfg = app.config
        base = str(cfg.get("spoolbase"))
        try:
            self.spool = Spool(base, fsync=bool(cfg.get("force_fsync")), mode=int(cfg.get("spool_mode")))
        except SpoolError as exc:
            raise StartupError(f"cannot open spool '{base}': {exc}") from exc
        started = time.monotonic()
        report = self.spool.load_all()
        took = time.monotonic() - started
        app.log("spool", f"spool_in: {report.count} messages from '{base}' in {took:.3f}s"
                f" ({len(report.quarantined)} quarantined, {len(report.removed_temp)} temp files removed)")
        for path, reason in report.quarantined:
            app.log("spool", f"spool_in: quarantined {path}: {reason}")
        app.spool = self.spool
        app.spool_in = report

    def stop(self, deadline: float) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    def reload(self, old_cfg: Any, new_cfg: Any) -> None:
        """Spool options are non-dynamic: log the ones that changed (restart needed)."""
        for name in NON_DYNAMIC:
            if old_cfg.get(name) != new_cfg.get(name) and self.app is not None:
                self.app.log("spool", f"option '{name}' changed; it takes effect at restart")
