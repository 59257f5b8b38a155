"""The durable spool: accepted messages live here until delivered, bounced or expired.

Who calls it: the SMTP session (``store`` before the final 250 to DATA/BDAT LAST), the
daemon at start-up (``load_all``, then every message re-enters its queue), the queue
and delivery code (``read_body``/``open_body``, ``update`` for retry state, ``remove``
when done), ``ec_show`` (read-only, through spool_in). Nothing else touches the files.
It never blocks the hub: journal cycles are written and fdatasync'd by the journal I/O
thread (spool_cycle.py, _speedups/journalio), other file I/O runs in gevent's threadpool.

Model (Momentum's): one message per recipient, all recipients of one DATA sharing one
body. ``store`` returns a StoredBatch whose messages each have their own ID.

Layout (ours; Momentum's is not public in enough detail to copy)::

    <base_dir>/.lock             flock held by the one process using this spool
    <base_dir>/.msgid            ID reservation (msgid.py)
    <base_dir>/segments/NNNNNNNNNNNN.seg   the journal, numbered, oldest first
    <base_dir>/quarantine/NNNNNNNNNNNN@START-END.bad (+ .reason)   damaged bytes

Why a journal and not two files per message (Momentum's hashed two-level directories):
a per-message file needs its own fsync plus a directory fsync, so the disk's fsync
rate caps the accept rate. Here every change is a checksummed record appended to the
active segment (format: spool_format.py): a batch record B (envelope, one entry per
recipient-message with ID, recipient index, domain, retries, next attempt, created,
binding; its data is the message bytes exactly as received), a done record D (message
delivered/bounced/expired: ``remove``) and an update record U (``update``). Many
sessions' records share one fdatasync (group commit). Crash safety: a record is
acknowledged only after the fdatasync that covers it returned; a crash tears at most
unacknowledged records, which the checksum exposes and spool-in quarantines.

Space (spool_space.py): a segment is deleted once it holds no live message and every older segment is
gone (oldest first, so no D record disappears while the message it ends is still on
disk). ``compact`` copies the few live messages of old segments (long retries) into the
active one so old segments can go; it runs by itself when more than ``compact_after``
segments exist.

Errors: ENOSPC/EDQUOT -> SpoolFullError (452 4.3.1); other OSError -> SpoolError
(451 4.3.0). A failed store leaves nothing that spool-in would load.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections import Counter
from dataclasses import replace
from typing import Any, Callable

import gevent

from .envelope import Envelope
from .msgid import IdGenerator
from .spool_commit import CommitStats, JournalWriter, segment_name
from .spool_format import BodyReader, SpoolError, SpoolFullError, error_from_oserror
from .spool_in import SpoolInReport, list_segments, load_segments
from .spool_recent import RecentBodies
from .spool_space import SpaceMixin
from .spool_records import SpooledMessage, StoredBatch, batch_meta, update_meta

__all__ = ["Spool", "SpoolError", "SpoolFullError", "SpooledMessage", "StoredBatch",
           "SpoolInReport"]

_UNSET = object()


class Spool(SpaceMixin):
    """One spool directory, opened by one process; see the module docstring."""

    def __init__(self, base_dir: str, *, fsync: bool = True, mode: int = 0o640,
                 idgen: IdGenerator | None = None, segment_bytes: int = 16 << 20,
                 max_pending: int = 2048, compact_after: int = 8) -> None:
        self.base_dir = os.path.abspath(base_dir)
        self.segment_dir = os.path.join(self.base_dir, "segments")
        self.fsync = fsync
        self.mode = mode
        self.segment_bytes = segment_bytes
        self.compact_after = compact_after
        try:
            os.makedirs(self.segment_dir, exist_ok=True)
            os.makedirs(os.path.join(self.base_dir, "quarantine"), exist_ok=True)
            self._lock_fd = os.open(os.path.join(self.base_dir, ".lock"),
                                    os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise error_from_oserror(exc, f"opening spool {self.base_dir}") from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock_fd)
            raise SpoolError(f"spool: {self.base_dir} is in use by another process") from exc
        existing = list_segments(self.segment_dir)
        self._segments: set[int] = set(existing)
        self._loaded = not existing  # never delete segments whose contents are unknown
        self.idgen = idgen or IdGenerator(os.path.join(self.base_dir, ".msgid"))
        self._journal = JournalWriter(
            self.segment_dir, (existing[-1] + 1) if existing else 1, fsync=fsync, mode=mode,
            segment_bytes=segment_bytes, headroom=max(4096, min(256 << 10, segment_bytes // 8)),
            max_pending=max_pending)
        self._messages: dict[str, SpooledMessage] = {}
        self._live: Counter[int] = Counter()
        self._recent = RecentBodies()
        self._housekeeper: gevent.Greenlet | None = None

    @property
    def stats(self) -> CommitStats:
        return self._journal.stats

    def __len__(self) -> int:
        return len(self._messages)

    def get(self, message_id: str) -> SpooledMessage | None:
        return self._messages.get(message_id)

    def messages(self) -> list[SpooledMessage]:
        return list(self._messages.values())

    # -- writing -------------------------------------------------------------------

    def store(self, envelope: Envelope, body: bytes | list[bytes], *,
              batch_id: str | None = None,
              on_durable: Callable[[Any], None] | None = None,
              carried: list[SpooledMessage] | None = None) -> StoredBatch:
        """Spool one message per recipient; return only once all of it is durable.

        ``batch_id`` lets the SMTP session name the batch before the body is stored
        (it already went into the Received: header); it must come from ``self.idgen``.
        ``on_durable``: see JournalWriter.append (the session's early 250).
        ``carried`` (spool import): one message per recipient, in order, whose creation
        time and retry state (retries, next attempt, last error, binding) the new
        messages take over in the same record, so expiry still counts from the original
        reception after a restart.
        """
        if not envelope.recipients:
            raise ValueError("store: the envelope has no recipients")
        if carried is not None and len(carried) != len(envelope.recipients):
            raise ValueError(f"store: {len(carried)} carried messages for "
                             f"{len(envelope.recipients)} recipients")
        data = body if isinstance(body, bytes) else b"".join(body)
        batch_id = batch_id or self.idgen.next_id()
        created = time.time()
        messages = [
            SpooledMessage(id=self.idgen.next_id(), batch_id=batch_id, recipient=recipient,
                           domain=recipient.domain, envelope=envelope, next_attempt=created,
                           created=created, binding=envelope.binding, size=len(data))
            for recipient in envelope.recipients
        ]
        for message, old in zip(messages, carried or (), strict=False):
            message.created, message.retries, message.next_attempt = (
                old.created, old.retries, old.next_attempt)
            message.last_error, message.binding = old.last_error, old.binding
        segment, data_offset = self._journal.append(
            b"B", batch_meta(batch_id, envelope, messages), data, on_durable=on_durable)
        self._track(messages, segment, data_offset)
        self._recent.add((segment, data_offset), data, len(messages))
        self._after_write()
        return StoredBatch(batch_id=batch_id, messages=messages, size=len(data))

    def adopt(self, batch_id: str, messages: list[SpooledMessage],
              body: bytes) -> list[SpooledMessage]:
        """Durably take over ``messages`` of batch ``batch_id`` from another spool.

        Same message IDs, envelope and retry state; ``body`` is the batch's bytes. Returns
        the copies now living here (the caller ends the originals in their own spool
        afterwards: a crash in between duplicates, never loses). A message whose ID
        already lives here (an adoption repeated after such a crash) is skipped.
        """
        copies = [replace(m, segment=-1, data_offset=0, removed=False)
                  for m in messages if m.id not in self._messages]
        if not copies:
            return []
        segment, data_offset = self._journal.append(
            b"B", batch_meta(batch_id, copies[0].envelope, copies, relocated=True), body)
        self._track(copies, segment, data_offset)
        self._after_write()
        return copies

    def remove(self, message: SpooledMessage) -> None:
        """Durably end a message; its segment goes once nothing older or in it lives."""
        self.remove_many([message])

    def remove_many(self, messages: list[SpooledMessage]) -> None:
        """Durably end several messages with ONE done record (one commit wait).

        Delivery removes a whole transaction's recipients at once: every message of it
        stops being a crash duplicate as soon as that single record is durable.
        """
        todo = [m for m in messages if not m.removed]
        if not todo:
            return
        for message in todo:
            message.removed = True
        meta = {"id": todo[0].id} if len(todo) == 1 else {"ids": [m.id for m in todo]}
        try:
            segment, _ = self._journal.append(b"D", meta)
        except SpoolError:
            for message in todo:
                message.removed = False
            raise
        self._segments.add(segment)
        for message in todo:
            if self._messages.pop(message.id, None) is not None:
                self._live[message.segment] -= 1
                self._recent.release((message.segment, message.data_offset))
        self._after_write()

    def update(self, message: SpooledMessage, *, retries: int | None = None,
               next_attempt: float | None = None, last_error: object = _UNSET,
               binding: object = _UNSET) -> None:
        """Durably change retry state (``last_error``/``binding`` may be set to None)."""
        before = (message.retries, message.next_attempt, message.last_error, message.binding)
        if retries is not None:
            message.retries = retries
        if next_attempt is not None:
            message.next_attempt = float(next_attempt)
        if last_error is not _UNSET:
            message.last_error = last_error  # type: ignore[assignment]
        if binding is not _UNSET:
            message.binding = binding  # type: ignore[assignment]
        try:  # set first, so a concurrent compaction copies the new state
            segment, _ = self._journal.append(b"U", update_meta(message))
        except SpoolError:
            message.retries, message.next_attempt, message.last_error, message.binding = before
            raise
        self._segments.add(segment)

    # -- reading -------------------------------------------------------------------

    def read_body(self, message: SpooledMessage) -> bytes:
        """The message bytes exactly as received (just-stored ones from memory, others
        read in the threadpool)."""
        cached = self._recent.get((message.segment, message.data_offset))
        if cached is not None:
            return cached
        path = os.path.join(self.segment_dir, segment_name(message.segment))
        threadpool = gevent.get_hub().threadpool
        return threadpool.spawn(_read_range, path, message.data_offset, message.size).get()

    def open_body(self, message: SpooledMessage) -> BodyReader:
        """A seekable binary file over the message bytes, for large messages."""
        path = os.path.join(self.segment_dir, segment_name(message.segment))
        try:
            return BodyReader(path, message.data_offset, message.size)
        except OSError as exc:
            raise error_from_oserror(exc, f"opening body of {message.id}") from exc

    def load_all(self, *, repair: bool = True) -> SpoolInReport:
        """Read the whole spool back (start-up); never raises on damaged data."""
        report: SpoolInReport = self._journal.run_exclusive(
            lambda: load_segments(self.base_dir, repair=repair, fsync=self.fsync,
                                  active_segment=self._journal.active_segment))
        self._messages = {message.id: message for message in report.messages}
        self._live = Counter(message.segment for message in report.messages)
        self._segments = set(report.segments)
        if self._journal.active_segment is not None:
            self._segments.add(self._journal.active_segment)
        self._loaded = True
        return report

    def close(self) -> None:
        """Finish pending writes and release the spool (another process may open it)."""
        if self._housekeeper is not None:
            self._housekeeper.join()
        self._journal.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # -- internals -----------------------------------------------------------------------

    def _track(self, messages: list[SpooledMessage], segment: int, data_offset: int) -> None:
        for message in messages:
            message.segment, message.data_offset = segment, data_offset
            self._messages[message.id] = message
        self._live[segment] += len(messages)
        self._segments.add(segment)


def _read_range(path: str, offset: int, length: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise error_from_oserror(exc, f"reading {path}") from exc
    try:
        chunks, done = [], 0
        while done < length:
            chunk = os.pread(fd, length - done, offset + done)
            if not chunk:
                raise SpoolError(f"spool: {path}: body ends {length - done} bytes early")
            chunks.append(chunk)
            done += len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise error_from_oserror(exc, f"reading {path}") from exc
    finally:
        os.close(fd)
