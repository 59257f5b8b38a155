"""``spool import <dir>`` / ``spool import_poll``: copy the live messages of another spool
directory into the running daemon's spool and queues.

Who calls it: the command registry (``register_spool_import_commands``). The import
runs in its own greenlet (one at a time per daemon, ``app.spool_import``); the command
answers at once and ``spool import_poll`` reports progress.

How: the source is read read-only (core/spool_in ``load_segments(repair=False)``: nothing
in it is repaired, quarantined or deleted) while holding a shared flock on its
``.lock``, so a spool a running process holds is refused. Its live messages are grouped
by batch (recipients of one DATA share one body); each batch is stored into
``app.spool`` with the original envelope (only its live recipients, their message
context -- a policy's ``routing_gateway`` too), and each new message takes over the
original creation time and retry state (retries, next attempt, last error, binding) in
that same durable batch record (``Spool.store(carried=...)``), so expiry counts from
the original reception also after a restart; then the batch is admitted to the queues.
Every message is one importlog line (ec_logger's ``importlog``, when configured:
``ts@old-id@I@new-id@result@source``, result 1 imported, 3 its body could not be read,
4 our spool refused it; through ``app.loggers.spool_import``); the paniclog gets the
import's start, each failed batch, each damaged source record and the summary. File
reads run in gevent's threadpool; never blocks the hub, never modifies the source
directory.
"""
from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from typing import Any

import gevent

from .commands_util import unavailable
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


@dataclass
class ImportJob:
    """Progress of one ``spool import``."""

    source: str
    state: str = "running"  # running | done | failed
    found: int = 0  # live messages in the source
    imported: int = 0
    failed: int = 0
    damaged: int = 0  # records the source's checksums refused (left in place)
    error: str = ""
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    greenlet: Any = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "state": self.state, "found": self.found,
                "imported": self.imported, "failed": self.failed, "damaged": self.damaged,
                "error": self.error, "started_at": self.started_at, "finished_at": self.finished_at}


def _shared_lock(source: str) -> int | None:
    """A shared flock on the source's .lock (None when it has none); SpoolError-like
    RuntimeError when a process holds the spool."""
    try:
        fd = os.open(os.path.join(source, ".lock"), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RuntimeError(f"{source} is in use by another process") from None
    return fd


def _read_source(source: str) -> Any:
    from ecelerity.core.spool_in import load_segments

    return load_segments(source, repair=False, fsync=False)


def _read_body(source: str, message: Any) -> bytes:
    from ecelerity.core.show import read_content

    return read_content(source, message)


def _batch_envelope(messages: list[Any]) -> Any:
    """A copy of the batch's envelope whose recipients are the live messages' recipients."""
    from ecelerity.core.envelope import Envelope

    original = messages[0].envelope
    copy = Envelope.from_dict(original.to_dict())
    index = {id(r): i for i, r in enumerate(original.recipients)}
    copy.recipients = [copy.recipients[index[id(m.recipient)]] for m in messages]
    return copy


IMPORTED, BODY_UNREADABLE, STORE_FAILED = 1, 3, 4   # importlog result codes


def _importlog(app: Any, old: list[Any], new: list[Any] | None, result: int, source: str) -> None:
    """One importlog line per message of a batch; never raises (logging never stops an import)."""
    hub = getattr(app, "loggers", None)
    if hub is None or not hasattr(hub, "spool_import"):
        return
    for index, before in enumerate(old):
        try:
            hub.spool_import(before.id, new[index].id if new else None, result, source)
        except Exception as exc:  # noqa: BLE001
            app.log("spool_import", f"importlog line for {before.id} not written: {exc}")


def _import_batch(app: Any, job: ImportJob, pool: Any, old: list[Any]) -> None:
    """Copy one source batch (its live messages ``old``) into our spool and queues."""
    try:
        body = pool.spawn(_read_body, job.source, old[0]).get()
    except Exception as exc:  # noqa: BLE001 - this batch fails, the import goes on
        _fail_batch(app, job, old, BODY_UNREADABLE, f"reading its body failed: {exc}")
        return
    try:
        stored = app.spool.store(_batch_envelope(old), body, carried=old)
    except Exception as exc:  # noqa: BLE001
        _fail_batch(app, job, old, STORE_FAILED, f"storing it failed: {exc}")
        return
    _importlog(app, old, stored.messages, IMPORTED, job.source)
    job.imported += len(old)
    try:
        app.queue_manager.admit(stored)
    except Exception as exc:  # noqa: BLE001 - durable already: queued at the next start
        app.log("spool_import", f"batch {old[0].batch_id} from {job.source} is spooled but "
                                f"was not queued: {type(exc).__name__}: {exc}")


def _fail_batch(app: Any, job: ImportJob, old: list[Any], result: int, why: str) -> None:
    job.failed += len(old)
    job.error = f"batch {old[0].batch_id}: {why}"
    _importlog(app, old, None, result, job.source)
    app.log("spool_import", f"importing batch {old[0].batch_id} from {job.source}: {why}")


def run_import(app: Any, job: ImportJob) -> None:
    """Import every live message of ``job.source`` (the job's greenlet); never raises."""
    pool = gevent.get_hub().threadpool
    lock = None
    try:
        lock = _shared_lock(job.source)
        app.log("spool_import", f"importing {job.source}")
        report = pool.spawn(_read_source, job.source).get()
        job.found, job.damaged = report.count, len(report.quarantined)
        for where, reason in report.quarantined:
            app.log("spool_import", f"{job.source}: damaged record left in place: {where}: {reason}")
        batches: dict[str, list[Any]] = {}
        for message in report.messages:
            batches.setdefault(message.batch_id, []).append(message)
        for old in batches.values():
            _import_batch(app, job, pool, old)
        job.state = "done"
    except Exception as exc:  # noqa: BLE001 - reported by import_poll, never a traceback
        job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        app.log("spool_import", f"import of {job.source} failed: {exc}")
    finally:
        if lock is not None:
            os.close(lock)
        job.finished_at = time.time()
        app.log("spool_import", f"import of {job.source} {job.state}: {job.imported} of {job.found} "
                                f"message(s) imported, {job.failed} failed, {job.damaged} damaged record(s)")


def start_import(app: Any, source: str) -> ImportJob:
    """Check ``source`` and start importing it; CommandError when it cannot be."""
    current = getattr(app, "spool_import", None)
    if isinstance(current, ImportJob) and current.state == "running":
        raise CommandError(400, f"spool import: {current.source} is still being imported; "
                                "see 'spool import_poll'")
    path = os.path.abspath(source)
    if not os.path.isdir(os.path.join(path, "segments")):
        raise CommandError(400, f"spool import: {path} is not a spool directory (no segments/)")
    if os.path.realpath(path) == os.path.realpath(app.spool.base_dir):
        raise CommandError(400, f"spool import: {path} is this daemon's own spool")
    job = ImportJob(path)
    app.spool_import = job
    job.greenlet = gevent.spawn(run_import, app, job)
    return job


def _render(d: dict[str, Any]) -> list[str]:
    return [f"spool import of {d['source']}: {d['state']}",
            f"  {d['imported']} of {d['found']} message(s) imported, {d['failed']} failed, "
            f"{d['damaged']} damaged record(s) left in the source"] + (
        [f"  error: {d['error']}"] if d["error"] else [])


def cmd_spool_import(ctx: CommandContext) -> CommandResult:
    if len(ctx.args) != 1:
        raise CommandError(400, f"usage: {ctx.command.usage}")
    if getattr(ctx.app, "spool", None) is None or getattr(ctx.app, "queue_manager", None) is None:
        raise unavailable(ctx, "the spool and queue services are not running")
    job = start_import(ctx.app, ctx.args[0])
    return CommandResult(job.describe(), lambda d: f"importing {d['source']}; "
                                                   "'spool import_poll' shows progress")


def cmd_spool_import_poll(ctx: CommandContext) -> CommandResult:
    job = getattr(ctx.app, "spool_import", None)
    if not isinstance(job, ImportJob):
        return CommandResult({"state": "none"}, lambda d: "no spool import has run")
    return CommandResult(job.describe(), _render)


def register_spool_import_commands(registry: CommandRegistry) -> None:
    registry.register("spool import", cmd_spool_import, "import an alternative spool",
                      usage="spool import <spool directory>", replace=True)
    registry.register("spool import_poll", cmd_spool_import_poll,
                      "check the status of a spool that is being imported",
                      usage="spool import_poll", replace=True)
