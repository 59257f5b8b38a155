"""Tests for ecelerity/core/spool_in.py: spool-in after damage, quarantine, garbage collection."""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.core.spool_format import encode_record
from ecelerity.core.spool_in import load_segments


def envelope_for(address: str) -> Envelope:
    return Envelope(mail_from="s@example.org", recipients=[Recipient(address)])


def fill(base, count: int, body_size: int = 3000) -> dict[str, bytes]:
    """Store ``count`` messages in a fresh spool at ``base``; return id -> body."""
    spool = Spool(str(base))
    try:
        bodies = {}
        for number in range(count):
            body = os.urandom(body_size)
            bodies[spool.store(envelope_for(f"r{number}@x"), body).messages[0].id] = body
        return bodies
    finally:
        spool.close()


def only_segment(base):
    [name] = os.listdir(base / "segments")
    return base / "segments" / name


def load(base):
    spool = Spool(str(base))
    try:
        report = spool.load_all()
        return report, {m.id: spool.read_body(m) for m in report.messages}
    finally:
        spool.close()


def test_a_flipped_byte_quarantines_one_message_and_loads_the_others(tmp_path):
    base = tmp_path / "s"
    bodies = fill(base, 5)
    segment = only_segment(base)
    buf = bytearray(segment.read_bytes())
    victim_offset = buf.index(list(bodies.values())[2][:50])
    buf[victim_offset + 10] ^= 0x01
    segment.write_bytes(bytes(buf))
    report, loaded = load(base)
    assert report.count == 4
    assert all(loaded[message_id] == bodies[message_id] for message_id in loaded)
    assert list(bodies)[2] not in loaded
    [(path, reason)] = report.quarantined
    assert reason == "checksum mismatch"
    assert os.path.dirname(path) == str(base / "quarantine")
    assert "checksum mismatch" in open(path + ".reason").read()
    assert list(bodies.values())[2][20:80] in open(path, "rb").read()
    again, _ = load(base)  # the segment was rewritten without the damage
    assert again.quarantined == [] and again.count == 4


def test_a_truncated_tail_is_quarantined_and_earlier_messages_load(tmp_path):
    base = tmp_path / "s"
    bodies = fill(base, 4)
    segment = only_segment(base)
    segment.write_bytes(segment.read_bytes()[:-1000])
    report, loaded = load(base)
    assert set(loaded) == set(list(bodies)[:3])
    [(_, reason)] = report.quarantined
    assert reason.startswith("truncated record")


def test_a_zero_filled_tail_is_unused_space_not_damage(tmp_path):
    base = tmp_path / "s"
    bodies = fill(base, 2)
    with open(only_segment(base), "ab") as segment_file:
        segment_file.write(bytes(50_000))
    report, loaded = load(base)
    assert report.quarantined == [] and set(loaded) == set(bodies)


def test_garbage_between_records_is_skipped_and_later_records_found(tmp_path):
    base = tmp_path / "s"
    bodies = fill(base, 3)
    segment = only_segment(base)
    buf = segment.read_bytes()
    second_record = buf.index(b"ECSPOOL 1 ", 1)
    segment.write_bytes(buf[:second_record] + b"\x00junk\xff" * 30 + buf[second_record:])
    report, loaded = load(base)
    assert set(loaded) == set(bodies)
    assert [reason for _, reason in report.quarantined] == ["no record header"]


def test_a_well_formed_record_that_says_nonsense_is_quarantined(tmp_path):
    base = tmp_path / "s"
    bodies = fill(base, 1)
    with open(only_segment(base), "ab") as segment_file:
        for part in encode_record(b"B", {"v": 1, "batch_id": "00/00-00001-00000001",
                                         "envelope": {"mail_from": 5, "recipients": []},
                                         "messages": []}, b"x"):
            segment_file.write(part)
    report, loaded = load(base)
    assert set(loaded) == set(bodies)
    [(_, reason)] = report.quarantined
    assert reason.startswith("invalid record: envelope.mail_from")


def test_leftover_temp_files_are_removed(tmp_path):
    base = tmp_path / "s"
    fill(base, 1)
    leftovers = [base / "segments" / "000000000001.seg.tmp", base / ".msgid.999999.tmp"]
    for leftover in leftovers:
        leftover.write_bytes(b"half written")
    report, _ = load(base)
    assert sorted(report.removed_temp) == sorted(str(path) for path in leftovers)
    assert not any(path.exists() for path in leftovers)


def test_segments_without_live_messages_are_deleted_at_load(tmp_path):
    base = tmp_path / "s"
    spool = Spool(str(base), segment_bytes=16 << 10)
    first = spool.store(envelope_for("a@x"), os.urandom(20_000)).messages[0]
    second = spool.store(envelope_for("b@x"), os.urandom(20_000)).messages[0]
    spool.close()
    # a process that crashed after recording the delivery but before collecting garbage
    spool = Spool(str(base), segment_bytes=16 << 10)
    spool.remove(first)
    spool.close()
    assert len(os.listdir(base / "segments")) == 3
    report, loaded = load(base)
    assert set(loaded) == {second.id} and report.segments_deleted == [first.segment]
    assert len(os.listdir(base / "segments")) == 2


def test_done_and_update_records_for_unknown_messages_are_ignored(tmp_path):
    base = tmp_path / "s"
    bodies = fill(base, 1)
    with open(only_segment(base), "ab") as segment_file:
        for kind, meta in ((b"D", {"id": "10/00-00001-00000001"}),
                           (b"U", {"id": "nope", "retries": 1})):
            segment_file.write(b"".join(encode_record(kind, meta)))
    report, loaded = load(base)
    assert set(loaded) == set(bodies) and report.quarantined == []


def test_read_only_load_changes_nothing(tmp_path):
    base = tmp_path / "s"
    fill(base, 3)
    segment = only_segment(base)
    damaged = segment.read_bytes()[:-10]
    segment.write_bytes(damaged)
    (base / "segments" / "x.seg.tmp").write_bytes(b"t")
    report = load_segments(str(base), repair=False)
    assert report.count == 2 and len(report.quarantined) == 1
    assert segment.read_bytes() == damaged and (base / "segments" / "x.seg.tmp").exists()
    assert os.listdir(base / "quarantine") == []


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("pristine") / "s"
    bodies = fill(base, 6, body_size=500)
    return only_segment(base).read_bytes(), bodies


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_never_crashes_and_never_loads_a_wrong_body(tmp_path_factory, pristine, data):
    buf, bodies = pristine
    damaged = bytearray(buf)
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "zero", "insert"]))
        where = data.draw(st.integers(0, max(0, len(damaged) - 1)))
        if action == "flip" and damaged:
            damaged[where] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del damaged[where:where + data.draw(st.integers(1, 400))]
        elif action == "zero":
            damaged[where:where + 64] = bytes(len(damaged[where:where + 64]))
        else:
            damaged[where:where] = data.draw(st.binary(min_size=1, max_size=80))
    base = tmp_path_factory.mktemp("damaged")
    (base / "segments").mkdir()
    (base / "segments" / "000000000001.seg").write_bytes(bytes(damaged))
    report = load_segments(str(base), repair=True, fsync=False)
    segment_now = (base / "segments" / "000000000001.seg").read_bytes() \
        if report.segments else b""
    for message in report.messages:
        body = segment_now[message.data_offset:message.data_offset + message.size]
        assert body == bodies[message.id]
