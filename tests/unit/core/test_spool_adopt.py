"""Tests for Spool.adopt (ecelerity/core/spool.py): taking over another spool's batch."""
import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool


@pytest.fixture
def spools(tmp_path):
    orphan = Spool(str(tmp_path / "orphan"), fsync=False)
    mine = Spool(str(tmp_path / "mine"), fsync=False)
    mine.load_all()
    yield orphan, mine
    orphan.close()
    mine.close()


def stored_batch(spool: Spool, body: bytes):
    envelope = Envelope(mail_from="s@b.test", recipients=[Recipient("a@x.test"), Recipient("b@y.test")])
    batch = spool.store(envelope, body)
    spool.update(batch.messages[1], retries=4, next_attempt=1234.5, last_error="451 4.4.1 later")
    return batch


def test_adopted_messages_keep_ids_state_and_body_across_a_restart(spools):
    orphan, mine = spools
    body = b"Subject: adopt\r\n\r\n" + bytes(range(256)) * 10
    batch = stored_batch(orphan, body)
    copies = mine.adopt(batch.batch_id, batch.messages, body)
    assert [c.id for c in copies] == [m.id for m in batch.messages]
    assert all(c is not m for c, m in zip(copies, batch.messages, strict=True))
    assert len(orphan) == 2 and not any(m.removed for m in batch.messages)  # originals untouched
    assert mine.get(copies[0].id) is copies[0] and mine.read_body(copies[1]) == body
    base = mine.base_dir
    mine.close()
    reopened = Spool(base, fsync=False)
    try:
        report = reopened.load_all()
        got = {m.id: m for m in report.messages}
        assert set(got) == {m.id for m in batch.messages}
        moved = got[batch.messages[1].id]
        assert (moved.retries, moved.next_attempt, moved.last_error) == (4, 1234.5, "451 4.4.1 later")
        assert moved.batch_id == batch.batch_id and moved.recipient.address == "b@y.test"
        assert reopened.read_body(got[batch.messages[0].id]) == body
    finally:
        reopened.close()


def test_adopting_again_after_a_crash_skips_messages_already_here(spools):
    orphan, mine = spools
    batch = stored_batch(orphan, b"body\r\n")
    first = mine.adopt(batch.batch_id, batch.messages[:1], b"body\r\n")
    again = mine.adopt(batch.batch_id, batch.messages, b"body\r\n")
    assert [c.id for c in first] == [batch.messages[0].id]
    assert [c.id for c in again] == [batch.messages[1].id]
    assert mine.adopt(batch.batch_id, batch.messages, b"body\r\n") == []
    assert sorted(m.id for m in mine.messages()) == sorted(m.id for m in batch.messages)


def test_an_adopted_message_is_removed_like_any_other(spools):
    orphan, mine = spools
    batch = stored_batch(orphan, b"x\r\n")
    copies = mine.adopt(batch.batch_id, batch.messages, b"x\r\n")
    mine.remove_many(copies)
    assert len(mine) == 0 and all(c.removed for c in copies)
