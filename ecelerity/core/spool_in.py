"""Spool-in: read every segment back, replay B/D/U records, quarantine damage, collect garbage.

Called by ``Spool.load_all`` (inside the journal's exclusive slot, in the threadpool)
and by ``show.py`` (read-only). Never raises on bad data: a record that fails its
checksum, is truncated, or says something invalid is reported and (when ``repair``) its
bytes are copied to ``quarantine/`` with a ``.reason`` file next to them, and the segment
is rewritten without it (temp file, fsync, rename, directory fsync), so the next start
does not report it again. Only an unreadable directory raises (SpoolError).

With ``repair`` it also deletes leftover ``*.tmp`` files and the oldest segments that
hold no live message (oldest first, so a done record never outlives an older segment
that still holds the message it ends; see spool.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .spool_commit import SEGMENT_SUFFIX, fsync_dir
from .spool_format import BadRange, Record, error_from_oserror, scan
from .spool_records import SpooledMessage, apply_update, parse_batch


@dataclass
class SpoolInReport:
    """Result of ``Spool.load_all``: live messages (spool order) and what was set aside."""

    messages: list[SpooledMessage] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    removed_temp: list[str] = field(default_factory=list)
    segments_deleted: list[int] = field(default_factory=list)
    segments: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.messages)


def list_segments(segment_dir: str) -> list[int]:
    """Numbers of the segment files present, ascending."""
    numbers = []
    for name in os.listdir(segment_dir):
        stem = name[:-len(SEGMENT_SUFFIX)]
        if name.endswith(SEGMENT_SUFFIX) and stem.isdigit():
            numbers.append(int(stem))
    return sorted(numbers)


def load_segments(base_dir: str, *, repair: bool = True, fsync: bool = True,
                  active_segment: int | None = None) -> SpoolInReport:
    """Replay the spool under ``base_dir``; see the module docstring."""
    segment_dir = os.path.join(base_dir, "segments")
    report = SpoolInReport()
    try:
        if repair:
            report.removed_temp = _remove_temp_files(base_dir, segment_dir)
        numbers = list_segments(segment_dir)
    except OSError as exc:
        raise error_from_oserror(exc, f"reading {segment_dir}") from exc
    live: dict[str, SpooledMessage] = {}
    for number in numbers:
        path = os.path.join(segment_dir, f"{number:012d}{SEGMENT_SUFFIX}")
        try:
            with open(path, "rb") as segment_file:
                buf = segment_file.read()
        except OSError as exc:
            report.quarantined.append((path, f"unreadable segment: {exc}"))
            continue
        records, problems = scan(buf)
        good = _replay(records, problems, number, live)
        if problems:
            _set_aside(report, base_dir, path, number, buf, problems, repair)
            if repair and number != active_segment:
                try:
                    _rewrite_without(path, buf, good, fsync)
                except OSError:
                    continue  # the damage stays (and is reported again) until space returns
                _relocate_after_rewrite(live, number, good)
    report.segments = numbers
    report.messages = list(live.values())
    if repair:
        report.segments_deleted = _delete_dead_prefix(
            segment_dir, numbers, report.messages, active_segment, fsync)
        report.segments = [n for n in numbers if n not in report.segments_deleted]
    return report


def _replay(records: list[Record], problems: list[BadRange], number: int,
            live: dict[str, SpooledMessage]) -> list[Record]:
    """Apply records in order; a semantically invalid one joins ``problems``."""
    good = []
    for record in records:
        try:
            if record.kind == "B":
                for message in parse_batch(record.meta, number, record.data_offset,
                                           record.data_len):
                    live[message.id] = message
            elif record.kind == "D":  # {"id": one} or {"ids": [many]} (remove_many)
                for message_id in record.meta.get("ids") or [record.meta.get("id")]:
                    live.pop(str(message_id), None)
            else:
                message = live.get(str(record.meta.get("id")))
                if message is not None:
                    apply_update(message, record.meta)
        except ValueError as exc:
            problems.append(BadRange(record.offset, record.end, f"invalid record: {exc}"))
            continue
        good.append(record)
    problems.sort(key=lambda problem: problem.start)
    return good


def _set_aside(report: SpoolInReport, base_dir: str, path: str, number: int, buf: bytes,
               problems: list[BadRange], repair: bool) -> None:
    for problem in problems:
        where = f"{path}@{problem.start}-{problem.end}"
        reason = problem.reason
        if repair:
            try:
                where = _quarantine(base_dir, number, buf, problem)
            except OSError as exc:
                reason = f"{reason} (not copied to quarantine: {exc})"
        report.quarantined.append((where, reason))


def _quarantine(base_dir: str, number: int, buf: bytes, problem: BadRange) -> str:
    quarantine_dir = os.path.join(base_dir, "quarantine")
    os.makedirs(quarantine_dir, exist_ok=True)
    path = os.path.join(quarantine_dir, f"{number:012d}@{problem.start}-{problem.end}.bad")
    with open(path, "wb") as bad_file:
        bad_file.write(buf[problem.start:problem.end])
        bad_file.flush()
        os.fsync(bad_file.fileno())  # before the segment is rewritten without these bytes
    with open(path + ".reason", "w", encoding="utf-8") as reason_file:
        reason_file.write(f"segment {number:012d} bytes {problem.start}-{problem.end}: "
                          f"{problem.reason}\n")
    return path


def _rewrite_without(path: str, buf: bytes, good: list[Record], fsync: bool) -> None:
    temp_path = path + ".tmp"
    with open(temp_path, "wb") as temp_file:
        for record in good:
            temp_file.write(buf[record.offset:record.end])
        temp_file.flush()
        if fsync:
            os.fsync(temp_file.fileno())
    os.replace(temp_path, path)
    if fsync:
        fsync_dir(os.path.dirname(path))


def _relocate_after_rewrite(live: dict[str, SpooledMessage], number: int,
                            good: list[Record]) -> None:
    """Messages of a rewritten segment moved: fix their data offsets."""
    shift = {}
    new_offset = 0
    for record in good:
        shift[record.data_offset] = new_offset + (record.data_offset - record.offset)
        new_offset += record.end - record.offset
    for message in live.values():
        if message.segment == number and message.data_offset in shift:
            message.data_offset = shift[message.data_offset]


def _remove_temp_files(base_dir: str, segment_dir: str) -> list[str]:
    """Crash leftovers: segment rewrites, and ID reservations of other (dead) processes."""
    removed = []
    own_marker = f".{os.getpid()}.tmp"
    for directory in (base_dir, segment_dir):
        for name in os.listdir(directory):
            if name.endswith(".tmp") and not name.endswith(own_marker):
                os.unlink(os.path.join(directory, name))
                removed.append(os.path.join(directory, name))
    return removed


def _delete_dead_prefix(segment_dir: str, numbers: list[int], messages: list[SpooledMessage],
                        active_segment: int | None, fsync: bool) -> list[int]:
    holding = {message.segment for message in messages}
    deleted = []
    for number in numbers:
        if number in holding or number == active_segment:
            break
        try:
            os.unlink(os.path.join(segment_dir, f"{number:012d}{SEGMENT_SUFFIX}"))
        except OSError:
            break  # retried at the next garbage collection; only space is lost
        deleted.append(number)
    if deleted and fsync:
        fsync_dir(segment_dir)
    return deleted
