"""Tests for ecelerity/core/msgid.py: the ID form, decoding, and uniqueness rules."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.core import msgid
from ecelerity.core.msgid import IdGenerator, decode, describe, format_id


class FrozenClock:
    """A clock the test moves by hand (the same second for as long as it likes)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_momentum_sample_decodes_as_ec_show_prints_it():
    assert decode("00/00-02001-C6DD1CA4") == (1254219116, 2001, 0)
    assert describe("00/00-02001-C6DD1CA4") == "(slot: 1254219116, pid: 2001, counter: 0)"
    assert format_id(1254219116, 2001, 0) == "00/00-02001-C6DD1CA4"


def test_counter_is_written_backwards():
    assert format_id(0, 0, 1).startswith("10/00-")
    assert format_id(0, 0, 2).startswith("20/00-")
    assert format_id(0, 0, 0x1234).startswith("43/21-")


def test_pid_is_folded_to_five_digits():
    assert format_id(1, 123456, 0).split("-")[1] == "23456"


@pytest.mark.parametrize("bad", ["", "00/00-2001-C6DD1CA4", "00-00-02001-C6DD1CA4",
                                 "0G/00-02001-C6DD1CA4", "00/00-02001-C6DD1CA"])
def test_malformed_ids_are_rejected_with_the_id_named(bad):
    with pytest.raises(ValueError, match="not a message id"):
        decode(bad)
    assert not msgid.is_valid(bad)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFFFFFFFF), st.integers(0, 99999), st.integers(0, 0xFFFF))
def test_format_and_decode_round_trip(slot, pid, counter):
    text = format_id(slot, pid, counter)
    assert msgid.is_valid(text)
    assert decode(text) == (slot, pid, counter)


def test_message_id_local_part_matches_momentum():
    assert msgid.message_id_local_part("00/00-02001-C6DD1CA4") == "00.00.02001.C6DD1CA4"


def test_100k_ids_are_unique_and_increasing():
    clock = FrozenClock(1_700_000_000)
    generator = IdGenerator(pid=4242, clock=clock)
    parts = [generator.next_parts() for _ in range(100_000)]
    ids = {format_id(*part) for part in parts}
    assert len(ids) == 100_000
    assert parts == sorted(parts)
    # 100k IDs in one frozen second: the counter wrapped once and borrowed the next slot
    assert parts[-1][0] == 1_700_000_001


def test_counter_exhaustion_moves_to_next_slot_and_waits_for_the_clock():
    clock = FrozenClock(1_000)
    generator = IdGenerator(pid=1, clock=clock)
    for _ in range(0x10000):
        generator.next_parts()
    assert generator.next_parts() == (1_001, 1, 0)
    clock.now = 1_001  # the clock catches up: stay in the borrowed slot, keep counting
    assert generator.next_parts() == (1_001, 1, 1)
    clock.now = 1_005
    assert generator.next_parts() == (1_005, 1, 0)


def test_clock_going_backwards_never_reuses_an_id():
    clock = FrozenClock(5_000)
    generator = IdGenerator(pid=7, clock=clock)
    first = generator.next_parts()
    clock.now = 4_000
    second = generator.next_parts()
    assert second > first


def test_restart_in_the_same_second_with_the_same_pid_does_not_collide(tmp_path):
    state = str(tmp_path / ".msgid")
    clock = FrozenClock(1_700_000_000)
    first_run = IdGenerator(state, pid=2001, clock=clock)
    first_ids = {first_run.next_id() for _ in range(70_000)}  # crosses a slot boundary
    for _ in range(3):  # several restarts, all in the same second
        restarted = IdGenerator(state, pid=2001, clock=clock)
        later_ids = {restarted.next_id() for _ in range(1_000)}
        assert not first_ids & later_ids
        first_ids |= later_ids


def test_without_a_state_file_a_same_second_restart_would_collide():
    """The reservation file is what makes the previous test pass (this one shows why)."""
    clock = FrozenClock(1_700_000_000)
    first = IdGenerator(None, pid=2001, clock=clock).next_id()
    assert IdGenerator(None, pid=2001, clock=clock).next_id() == first


def test_reservation_is_written_rarely_and_read_back(tmp_path):
    state = tmp_path / ".msgid"
    clock = FrozenClock(2_000)
    generator = IdGenerator(str(state), pid=3, clock=clock, reserve_seconds=8)
    generator.next_id()
    assert state.read_text().split() == ["ECMSGID", "1", "2008"]
    mtime = os.stat(state).st_mtime_ns
    for second in range(2_001, 2_008):
        clock.now = second
        generator.next_id()
    assert os.stat(state).st_mtime_ns == mtime  # no write inside the reserved window
    clock.now = 2_009
    generator.next_id()
    assert state.read_text().split()[2] == "2017"
    assert IdGenerator(str(state), pid=3, clock=clock).next_parts()[0] == 2_018


def test_corrupt_reservation_starts_beyond_what_any_run_could_have_reserved(tmp_path):
    state = tmp_path / ".msgid"
    state.write_bytes(b"\x00garbage")
    generator = IdGenerator(str(state), pid=3, clock=FrozenClock(3_000), reserve_seconds=8)
    assert generator.next_parts()[0] == 3_009


def test_unwritable_reservation_is_reported_not_raised(tmp_path):
    generator = IdGenerator(str(tmp_path / "missing-dir" / ".msgid"), pid=3,
                            clock=FrozenClock(3_000))
    first, second = generator.next_id(), generator.next_id()
    assert first != second
    assert isinstance(generator.last_persist_error, OSError)
