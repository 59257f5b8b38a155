"""Tests for ecelerity/core/spool_format.py: record encoding, scanning, errors, BodyReader."""
import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core.spool_format import (BodyReader, SpoolError, SpoolFullError, encode_record,
                                         error_from_oserror, scan)


def record(kind: bytes, meta: dict, data: bytes = b"") -> bytes:
    return b"".join(encode_record(kind, meta, data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([b"B", b"D", b"U"]),
                          st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
                          st.binary(max_size=300)), max_size=6))
def test_records_scan_back_exactly(items):
    buf = b"".join(record(*item) for item in items)
    records, problems = scan(buf)
    assert problems == []
    assert [(r.kind.encode(), r.meta, buf[r.data_offset:r.data_offset + r.data_len])
            for r in records] == items


@pytest.mark.parametrize("damage, reason", [
    (lambda b: b[:-1], "truncated record"),
    (lambda b: b.replace(b"hello", b"hellO"), "checksum mismatch"),
    (lambda b: b.replace(b"ECSPOOL 1 B", b"ECSPOOL 1 X"), "malformed record header"),
    (lambda b: b"junk" + b, "no record header"),
])
def test_damage_is_named(damage, reason):
    records, problems = scan(damage(record(b"B", {"a": 1}, b"hello")))
    assert records == [] or reason == "no record header"
    assert problems[0].reason.startswith(reason)


def test_checksum_covers_the_lengths_too():
    good = record(b"U", {"a": "bc"})
    shifted = good.replace(b"U 10 0", b"U 9 1")  # same bytes, other split
    assert scan(shifted)[1][0].reason == "checksum mismatch"


def test_valid_checksum_but_non_object_meta_is_rejected():
    import json
    import zlib
    meta = json.dumps([1, 2]).encode()
    sized = b"B %d 0\n" % len(meta)
    crc = zlib.crc32(b"", zlib.crc32(meta, zlib.crc32(sized)))
    buf = b"ECSPOOL 1 B %d 0 %08x\n" % (len(meta), crc) + meta + b"\n"
    assert scan(buf)[1][0].reason == "record metadata is not an object"


def test_errors_map_to_replies():
    full = error_from_oserror(OSError(errno.ENOSPC, "No space left on device"), "writing x")
    assert isinstance(full, SpoolFullError)
    assert full.reply == "452 4.3.1 Insufficient system storage"
    assert "writing x" in str(full) and "errno 28" in str(full)
    other = error_from_oserror(OSError(errno.EROFS, "Read-only file system"), "writing x")
    assert type(other) is SpoolError and other.reply.startswith("451 4.3.0 ")


def test_body_reader_reads_only_its_range(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789abcdef")
    with BodyReader(str(path), 4, 6) as reader:
        assert reader.read() == b"456789"
        assert reader.seek(2) == 2 and reader.read(2) == b"67"
        assert reader.read(100) == b"89" and reader.read(1) == b""
