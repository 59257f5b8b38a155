"""The spool's space: deleting emptied segments and compacting old ones (a Spool mixin).

Who calls it: core/spool.py (Spool inherits SpaceMixin; ``_after_write`` runs after each
write, ``collect_garbage`` / ``compact`` are also the console's and the tests'). Rules
(see spool.py's docstring): a segment goes only once it holds no live message and every
older segment is gone, oldest first, so no D record disappears while the message it ends
is still on disk; ``compact`` copies the few live messages of old segments into the
active one. It never deletes the active segment, never blocks the hub (unlinks run as
an exclusive job of the journal writer, off the hub) and never raises out of the
background housekeeper (only spool space is at stake; it is retried after the next write).
"""
from __future__ import annotations

import os
from typing import Any

import gevent

from .spool_commit import fsync_dir, segment_name
from .spool_format import SpoolError, error_from_oserror
from .spool_records import SpooledMessage, batch_meta


class SpaceMixin:
    """Space management for Spool; uses its _segments, _live, _messages, _journal."""

    _segments: set[int]
    _live: Any
    _messages: dict[str, SpooledMessage]
    _journal: Any
    _loaded: bool
    _housekeeper: Any
    compact_after: int
    segment_dir: str
    fsync: bool

    def collect_garbage(self) -> list[int]:
        """Delete the oldest segments that hold no live message; return their numbers."""
        if not self._loaded:
            return []
        doomed = []
        for number in sorted(self._segments):
            if self._live[number] > 0 or number == self._journal.active_segment:
                break
            doomed.append(number)
        if doomed:
            self._journal.run_exclusive(self._unlink_segments, doomed)
            for number in doomed:
                self._segments.discard(number)
                self._live.pop(number, None)
        return doomed

    def compact(self) -> int:
        """Copy live messages of all but the newest ``compact_after`` segments forward."""
        sealed = sorted(n for n in self._segments if n != self._journal.active_segment)
        old = set(sealed[:max(0, len(sealed) - self.compact_after + 1)])
        batches: dict[str, list[SpooledMessage]] = {}
        for message in list(self._messages.values()):
            if message.segment in old and not message.removed:
                batches.setdefault(message.batch_id, []).append(message)
        moved = 0
        for batch_id, messages in batches.items():
            body = self.read_body(messages[0])
            messages = [message for message in messages if not message.removed]
            if not messages:
                continue
            segment, data_offset = self._journal.append(
                b"B", batch_meta(batch_id, messages[0].envelope, messages, relocated=True), body)
            for message in messages:
                if not message.removed:
                    self._live[message.segment] -= 1
                    self._live[segment] += 1
                message.segment, message.data_offset = segment, data_offset
                moved += 1
            self._segments.add(segment)
        self.collect_garbage()
        return moved

    # -- internals -------------------------------------------------------------------

    def _after_write(self) -> None:
        """Start background garbage collection/compaction when there is something to do."""
        if self._housekeeper is not None and not self._housekeeper.dead:
            return
        if not self._loaded:
            return
        oldest = min(self._segments, default=None)
        too_many = len(self._segments) > self.compact_after
        if too_many or (oldest is not None and self._live[oldest] <= 0
                        and oldest != self._journal.active_segment):
            self._housekeeper = gevent.spawn(self._housekeep, too_many)

    def _housekeep(self, compact: bool) -> None:
        try:
            self.compact() if compact else self.collect_garbage()
        except SpoolError:
            pass  # retried after the next write; spool space is all that is at stake

    def _unlink_segments(self, numbers: list[int]) -> None:
        try:
            for number in numbers:
                try:
                    os.unlink(os.path.join(self.segment_dir, segment_name(number)))
                except FileNotFoundError:
                    pass
            if self.fsync:  # before any newer segment may go (see the module docstring)
                fsync_dir(self.segment_dir)
        except OSError as exc:
            raise error_from_oserror(exc, "deleting empty segments") from exc
