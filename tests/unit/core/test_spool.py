"""Tests for ecelerity/core/spool.py: store, read back, update, remove, errors, disk full."""
import errno
import hashlib
import os
import subprocess

import gevent
import pytest

from ecelerity.core import spool_commit
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.msgid import decode, is_valid
from ecelerity.core.spool import Spool, SpoolError, SpoolFullError


def envelope_for(*addresses: str, **extra) -> Envelope:
    return Envelope(mail_from="sender@example.org",
                    recipients=[Recipient(address) for address in addresses], **extra)


@pytest.fixture
def spool(tmp_path):
    opened = Spool(str(tmp_path / "spool"))
    yield opened
    opened.close()


def reopen(spool: Spool) -> Spool:
    spool.close()
    return Spool(spool.base_dir, segment_bytes=spool.segment_bytes)


def test_store_gives_one_message_per_recipient_sharing_one_body(spool):
    body = b"Subject: t\r\n\r\nhello\r\n"
    batch = spool.store(envelope_for("a@Example.COM", "b@example.net", ret="FULL"), body)
    assert is_valid(batch.batch_id) and batch.size == len(body)
    assert [m.recipient.address for m in batch.messages] == ["a@Example.COM", "b@example.net"]
    assert [m.domain for m in batch.messages] == ["example.com", "example.net"]
    assert len({m.id for m in batch.messages} | {batch.batch_id}) == 3
    assert all(decode(m.id)[1] == os.getpid() % 100000 for m in batch.messages)
    assert all(m.retries == 0 and m.created > 0 and m.next_attempt == m.created
               for m in batch.messages)
    assert {(m.segment, m.data_offset) for m in batch.messages} == {
        (batch.messages[0].segment, batch.messages[0].data_offset)}  # one body on disk
    assert spool.read_body(batch.messages[1]) == body
    assert len(spool) == 2 and spool.get(batch.messages[0].id) is batch.messages[0]


def test_body_given_as_chunks_is_stored_exactly(spool):
    chunks = [b"Header: x\r\n", b"\r\n", bytes(range(256)) * 40, b"\r\n"]
    batch = spool.store(envelope_for("a@x"), chunks)
    assert spool.read_body(batch.messages[0]) == b"".join(chunks)


def test_open_body_is_a_seekable_file(spool):
    body = os.urandom(300_000)
    message = spool.store(envelope_for("a@x"), body).messages[0]
    with spool.open_body(message) as body_file:
        assert body_file.read(10) == body[:10]
        body_file.seek(-5, os.SEEK_END)
        assert body_file.read() == body[-5:]
        body_file.seek(0)
        assert hashlib.sha256(body_file.read()).digest() == hashlib.sha256(body).digest()


def test_everything_stored_is_loaded_after_reopen_with_dsn_and_context(spool):
    envelope = envelope_for("a@x", "b@y", envid="E1", peer_ip="192.0.2.1", peer_port=25,
                            conn_context={"pathway": "default"}, binding="b1")
    envelope.recipients[0].notify, envelope.recipients[0].orcpt = "NEVER", "rfc822;a@x"
    batch = spool.store(envelope, b"body-1")
    other = spool.store(envelope_for("c@z"), b"body-2")
    spool = reopen(spool)
    try:
        report = spool.load_all()
        assert report.count == 3 and report.quarantined == []
        loaded = {m.id: m for m in report.messages}
        first = loaded[batch.messages[0].id]
        assert first.envelope == envelope and first.recipient.notify == "NEVER"
        assert first.binding == "b1" and first.batch_id == batch.batch_id
        assert loaded[batch.messages[0].id].envelope is loaded[batch.messages[1].id].envelope
        assert spool.read_body(loaded[other.messages[0].id]) == b"body-2"
    finally:
        spool.close()


def test_update_is_durable(spool):
    message = spool.store(envelope_for("a@x"), b"b").messages[0]
    spool.update(message, retries=2, next_attempt=1234.5, last_error="451 4.4.1 timeout")
    spool.update(message, retries=3)
    spool = reopen(spool)
    try:
        [loaded] = spool.load_all().messages
        assert (loaded.retries, loaded.next_attempt, loaded.last_error) == (
            3, 1234.5, "451 4.4.1 timeout")
        spool.update(loaded, last_error=None, binding="other")
        assert (loaded.last_error, loaded.binding) == (None, "other")
    finally:
        spool.close()


def test_remove_is_durable_and_last_recipient_frees_the_body(tmp_path):
    spool = Spool(str(tmp_path / "s"), segment_bytes=64 << 10)
    try:
        first = spool.store(envelope_for("a@x", "b@x"), os.urandom(40_000))
        spool.store(envelope_for("c@x"), os.urandom(40_000))  # next segment
        assert len(os.listdir(spool.segment_dir)) == 2
        spool.remove(first.messages[0])
        assert spool.collect_garbage() == []  # b@x still needs the first body
        spool.remove(first.messages[1])
        spool.remove(first.messages[1])  # twice is harmless
        gevent.sleep(0.05)  # the background housekeeper deletes the emptied segment
        assert len(os.listdir(spool.segment_dir)) == 1
        spool = reopen(spool)
        assert [m.recipient.address for m in spool.load_all().messages] == ["c@x"]
    finally:
        spool.close()


def test_remove_many_is_one_durable_record_for_all(spool):
    batch = spool.store(envelope_for("a@x", "b@x", "c@x"), b"Subject: t\r\n\r\nhi\r\n")
    fsyncs_before = spool.stats.fsyncs
    spool.remove_many(batch.messages[:2])
    assert spool.stats.fsyncs == fsyncs_before + 1  # one commit for both removals
    spool.remove_many(batch.messages[:2])  # again: nothing to do, no write
    assert spool.stats.fsyncs == fsyncs_before + 1
    spool = reopen(spool)
    try:
        assert [m.recipient.address for m in spool.load_all().messages] == ["c@x"]
    finally:
        spool.close()


def test_store_without_recipients_is_refused(spool):
    with pytest.raises(ValueError, match="no recipients"):
        spool.store(envelope_for(), b"x")


def test_a_spool_directory_is_used_by_one_process_at_a_time(spool):
    with pytest.raises(SpoolError, match="in use by another process"):
        Spool(spool.base_dir)


@pytest.mark.parametrize("error_number, error_type, reply", [
    (errno.ENOSPC, SpoolFullError, "452 4.3.1 Insufficient system storage"),
    (errno.EDQUOT, SpoolFullError, "452 4.3.1 Insufficient system storage"),
    (errno.EIO, SpoolError, "451 4.3.0"),
])
def test_write_errors_map_to_smtp_replies_and_leave_nothing_loadable(
        spool, monkeypatch, error_number, error_type, reply):
    """Simulated: only the segment write fails (os.pwritev in the commit job)."""
    kept = spool.store(envelope_for("a@x"), b"kept")
    real_pwritev = os.pwritev

    def half_then_fail(fd, buffers, offset):
        real_pwritev(fd, [bytes(buffers[0])[:10]], offset)  # a torn write
        raise OSError(error_number, os.strerror(error_number))

    monkeypatch.setattr(spool_commit.os, "pwritev", half_then_fail)
    with pytest.raises(error_type) as caught:
        spool.store(envelope_for("b@x"), b"lost")
    assert caught.value.reply.startswith(reply) and type(caught.value) is error_type
    monkeypatch.setattr(spool_commit.os, "pwritev", real_pwritev)
    after = spool.store(envelope_for("c@x"), b"after")  # keeps serving
    spool = reopen(spool)
    try:
        report = spool.load_all()
        assert {m.id for m in report.messages} == {kept.messages[0].id, after.messages[0].id}
        assert report.quarantined == []
    finally:
        spool.close()


def test_failed_fsync_seals_the_segment_and_loses_only_that_cycle(spool, monkeypatch):
    kept = spool.store(envelope_for("a@x"), b"kept")
    real_fdatasync = os.fdatasync

    def fail(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(spool_commit.os, "fdatasync", fail)
    with pytest.raises(SpoolError, match="errno 5"):
        spool.store(envelope_for("b@x"), b"not durable")
    monkeypatch.setattr(spool_commit.os, "fdatasync", real_fdatasync)
    after = spool.store(envelope_for("c@x"), b"after")
    assert after.messages[0].segment == kept.messages[0].segment + 1
    spool = reopen(spool)
    try:
        assert {m.id for m in spool.load_all().messages} == {
            kept.messages[0].id, after.messages[0].id}
    finally:
        spool.close()


@pytest.fixture
def tiny_filesystem(tmp_path):
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs here: {result.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_real_disk_full_refuses_new_mail_but_keeps_accepted_and_can_still_remove(
        tiny_filesystem):
    spool = Spool(str(tiny_filesystem / "spool"), segment_bytes=128 << 10)
    accepted, bodies = [], {}
    try:
        with pytest.raises(SpoolFullError) as caught:
            for number in range(200):
                body = os.urandom(20_000)
                batch = spool.store(envelope_for(f"r{number}@x"), body)
                accepted.append(batch.messages[0])
                bodies[batch.messages[0].id] = body
        assert caught.value.reply == "452 4.3.1 Insufficient system storage"
        assert 10 < len(accepted) < 60
        for message in accepted[:len(accepted) // 2]:  # delivery can still finish messages
            spool.remove(message)
        remaining = {m.id for m in accepted[len(accepted) // 2:]}
        spool = reopen(spool)
        report = spool.load_all()
        assert {m.id for m in report.messages} == remaining and report.quarantined == []
        for message in report.messages:
            assert spool.read_body(message) == bodies[message.id]
        for message in report.messages:
            spool.remove(message)
        spool.collect_garbage()
        spool.store(envelope_for("again@x"), os.urandom(20_000))  # space came back
    finally:
        spool.close()


def test_compaction_moves_long_lived_messages_so_old_segments_can_go(tmp_path):
    spool = Spool(str(tmp_path / "s"), segment_bytes=16 << 10, compact_after=3)
    try:
        long_lived = spool.store(envelope_for("slow@x", "other@x"), b"keep me").messages
        spool.update(long_lived[0], retries=4, last_error="451 later")
        for number in range(40):  # traffic that comes and goes fills many segments
            batch = spool.store(envelope_for(f"r{number}@x"), os.urandom(6_000))
            spool.remove(batch.messages[0])
        gevent.sleep(0.1)
        spool.compact()
        segments = os.listdir(spool.segment_dir)
        assert len(segments) <= 3, segments
        assert long_lived[0].segment > 1
        assert spool.read_body(long_lived[1]) == b"keep me"
        spool = reopen(spool)
        report = spool.load_all()
        assert sorted(m.recipient.address for m in report.messages) == ["other@x", "slow@x"]
        slow = next(m for m in report.messages if m.recipient.address == "slow@x")
        assert (slow.retries, slow.last_error) == (4, "451 later")
        assert spool.read_body(slow) == b"keep me"
    finally:
        spool.close()


def test_store_carried_state_and_message_context_survive_a_reopen(spool):
    """``carried`` (spool import): creation time and retry state in the batch record
    itself; the message context (a policy's routing_gateway) is part of the envelope."""
    first = spool.store(envelope_for("a@x.org", "b@y.org"), b"one").messages
    first[0].created, first[0].retries, first[0].next_attempt = 1_600_000_000.5, 4, 1_600_000_900.0
    first[1].last_error, first[1].binding, first[1].created = "451 4.4.1 later", "b2", 1_600_000_001.0
    context = {"routing_gateway": "10.0.0.1:2525", "routing_gateway:b@y.org": "gw.test"}
    copies = spool.store(envelope_for("a@x.org", "b@y.org", mess_context=context), b"two",
                         carried=first).messages
    with pytest.raises(ValueError, match="carried"):
        spool.store(envelope_for("a@x.org"), b"three", carried=first)
    spool = reopen(spool)
    try:
        spool.load_all()
        a, b = (spool.get(m.id) for m in copies)
        assert (a.created, a.retries, a.next_attempt, a.last_error) == (1_600_000_000.5, 4, 1_600_000_900.0, None)
        assert (b.created, b.retries, b.last_error, b.binding) == (1_600_000_001.0, 0, "451 4.4.1 later", "b2")
        assert a.envelope.mess_context == context and len(spool) == 4
    finally:
        spool.close()
