"""The spool as a daemon service: open it, read it back in (spool-in), close it.

Runs before the queue and the SMTP listener, so both find ``app.spool`` (the one
Spool of this process; it holds an exclusive lock on its directory) and
``app.spool_in`` (the SpoolInReport of start-up: messages to requeue, files
quarantined). Options: ``spoolbase``, ``force_fsync`` and ``spool_mode`` (all
non-dynamic: a reload that changes them is logged and takes effect at restart).
Never touches spool files itself; everything goes through core.spool.Spool.

Worker processes (daemon/supervisor.py): ``app.config`` is then a daemon/shares
ConfigView whose ``spoolbase`` is this worker's partition ``<spoolbase>/w<index>``.
Before spool-in, the worker adopts the messages of partitions no live worker owns:
``w<k>`` for k >= N goes to worker ``k % N``, and a spool written by a single-process
daemon (``<spoolbase>/segments``) to worker 0. Each adopted batch is written to the
worker's own journal first (same message IDs, retry state kept) and only then ended
in the orphan, so a crash in between duplicates, never loses. A partition still
locked by a live process is left alone (logged) and tried again at the next start.
"""
from __future__ import annotations

import os
import re
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
        count = int(getattr(cfg, "count", 1) or 1)
        if count > 1 and hasattr(cfg, "config"):
            adopt_orphans(self.spool, str(cfg.config.get("spoolbase")), int(cfg.index), count,
                          lambda text: app.log("spool", text))
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


_PARTITION = re.compile(r"^w(\d+)$")


def orphan_partitions(base: str, index: int, count: int) -> list[str]:
    """Spool directories worker ``index`` of ``count`` must adopt (see the docstring)."""
    found = []
    if index == 0 and os.path.isdir(os.path.join(base, "segments")):
        found.append(base)
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return found
    for name in names:
        match = _PARTITION.match(name)
        if match and int(match.group(1)) >= count and int(match.group(1)) % count == index:
            found.append(os.path.join(base, name))
    return found


def adopt_orphans(spool: Spool, base: str, index: int, count: int, log: Any) -> int:
    """Move every live message of this worker's orphan partitions into ``spool``."""
    moved = 0
    for path in orphan_partitions(base, index, count):
        try:
            orphan = Spool(path, fsync=spool.fsync, mode=spool.mode)
        except SpoolError as exc:
            log(f"spool_in: partition '{path}' not adopted now: {exc}")
            continue
        try:
            report = orphan.load_all()
            batches: dict[str, list[Any]] = {}
            for message in report.messages:
                batches.setdefault(message.batch_id, []).append(message)
            for batch_id, messages in batches.items():
                adopt_batch(spool, orphan, batch_id, messages)
                moved += len(messages)
            orphan.collect_garbage()
        finally:
            orphan.close()
        log(f"spool_in: adopted {sum(len(b) for b in batches.values())} messages "
            f"from partition '{path}'")
    return moved


def adopt_batch(spool: Spool, orphan: Spool, batch_id: str, messages: list[Any]) -> None:
    """One batch into ``spool`` (durable, Spool.adopt), then ended in ``orphan``."""
    spool.adopt(batch_id, messages, orphan.read_body(messages[0]))
    orphan.remove_many(messages)
