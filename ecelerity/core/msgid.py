"""Message, batch and connection IDs in Momentum's ``HH/HH-PPPPP-XXXXXXXX`` form.

Form (momentum-facts.md §2.10): ``HH/HH`` is the per-slot counter as 4 upper-case hex
digits written backwards (counter 1 -> ``0001`` -> ``1000`` -> ``10/00``); ``PPPPP`` is
the process id as 5 decimal digits (``pid % 100000``); ``XXXXXXXX`` is the slot (epoch
seconds) as 8 hex digits written backwards. ``00/00-02001-C6DD1CA4`` decodes to
``(slot=1254219116, pid=2001, counter=0)``.

Uniqueness:
- Within a process the pair (slot, counter) only ever grows. The counter counts up to
  0xFFFF within a slot; when it is exhausted the generator moves to the next slot
  (borrowing from the future) rather than reuse anything, and stays there until the
  clock catches up. A clock stepping backwards never makes the slot go down.
- Different processes differ in the PID field (a PID above 99999 is folded modulo
  100000; processes sharing one spool directory must therefore have distinct folded
  PIDs, which the daemon's worker supervisor passes in explicitly as ``pid=``).
- Across restarts of the same PID in the same second (containers): the generator keeps a
  reservation in ``<spool>/.msgid``: "no ID of any earlier run uses a slot above R". A
  new generator starts at slot ``max(now, R + 1)``. To avoid a write per ID, a running
  generator reserves ``reserve_seconds`` ahead and renews when its slot passes R (one
  tiny write+rename every few seconds, without fsync: a process crash keeps the page
  cache; a machine crash takes longer to reboot than the reservation window). A corrupt
  or unreadable reservation is treated as ``now + reserve_seconds`` (the most a previous
  run could have reserved), so it can only cost a few seconds of borrowed future.

The daemon makes one generator per spool (``Spool.idgen``) and uses it for message IDs,
batch IDs and connection IDs alike. Never call this from a thread other than the hub's.
"""
from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable

COUNTER_LIMIT = 0x10000
_ID_RE = re.compile(r"^([0-9A-F]{2})/([0-9A-F]{2})-(\d{5})-([0-9A-F]{8})$")
_STATE_MAGIC = "ECMSGID 1"


def format_id(slot: int, pid: int, counter: int) -> str:
    """Render (slot, pid, counter) as ``HH/HH-PPPPP-XXXXXXXX``."""
    if not 0 <= counter < COUNTER_LIMIT:
        raise ValueError(f"counter {counter} out of range 0..65535")
    if not 0 <= slot <= 0xFFFFFFFF:
        raise ValueError(f"slot {slot} out of range for 8 hex digits")
    reversed_counter = f"{counter:04X}"[::-1]
    return f"{reversed_counter[:2]}/{reversed_counter[2:]}-{pid % 100000:05d}-{f'{slot:08X}'[::-1]}"


def decode(msgid: str) -> tuple[int, int, int]:
    """Return (slot, pid, counter) of an ID; ValueError naming the ID when malformed."""
    match = _ID_RE.match(msgid.strip().upper())
    if match is None:
        raise ValueError(f"not a message id (want HH/HH-PPPPP-XXXXXXXX): {msgid!r}")
    counter = int((match.group(1) + match.group(2))[::-1], 16)
    return int(match.group(4)[::-1], 16), int(match.group(3)), counter


def is_valid(msgid: str) -> bool:
    """True when ``msgid`` has the ``HH/HH-PPPPP-XXXXXXXX`` form."""
    return _ID_RE.match(msgid) is not None


def describe(msgid: str) -> str:
    """``(slot: 1254219116, pid: 2001, counter: 0)`` as ec_show prints it."""
    slot, pid, counter = decode(msgid)
    return f"(slot: {slot}, pid: {pid}, counter: {counter})"


def message_id_local_part(msgid: str) -> str:
    """``00/00-02001-C6DD1CA4`` -> ``00.00.02001.C6DD1CA4`` (for an added Message-ID header)."""
    return msgid.replace("/", ".").replace("-", ".")


def file_key(msgid: str) -> str:
    """A file-name-safe form of an ID (``/`` is not allowed in file names)."""
    return msgid.replace("/", "_")


class IdGenerator:
    """Hands out IDs that never repeat for this spool; see the module docstring."""

    def __init__(
        self,
        state_path: str | None = None,
        *,
        pid: int | None = None,
        clock: Callable[[], float] = time.time,
        reserve_seconds: int = 8,
    ) -> None:
        self.state_path = state_path
        self.pid = (os.getpid() if pid is None else pid) % 100000
        self.reserve_seconds = max(1, reserve_seconds)
        self.last_persist_error: OSError | None = None
        self._clock = clock
        now = int(clock())
        self._reserved = self._read_reservation(now) if state_path else -1
        self._slot = max(now, self._reserved + 1)
        self._counter = -1  # the first next_parts() yields counter 0 in the start slot

    def next_parts(self) -> tuple[int, int, int]:
        """Return the next (slot, pid, counter), strictly above every earlier one."""
        now = int(self._clock())
        if now > self._slot:
            self._slot, self._counter = now, 0
        else:
            self._counter += 1
            if self._counter >= COUNTER_LIMIT:
                self._slot, self._counter = self._slot + 1, 0
        if self.state_path is not None and self._slot > self._reserved:
            self._reserve(self._slot + self.reserve_seconds)
        return self._slot, self.pid, self._counter

    def next_id(self) -> str:
        """Return the next ID string."""
        return format_id(*self.next_parts())

    # -- the reservation file ---------------------------------------------------------

    def _read_reservation(self, now: int) -> int:
        assert self.state_path is not None
        try:
            with open(self.state_path, encoding="ascii") as state_file:
                text = state_file.read()
        except FileNotFoundError:
            return -1
        except (OSError, UnicodeDecodeError):
            return now + self.reserve_seconds
        parts = text.split()
        if len(parts) != 3 or " ".join(parts[:2]) != _STATE_MAGIC or not parts[2].isdigit():
            return now + self.reserve_seconds
        return int(parts[2])

    def _reserve(self, up_to_slot: int) -> None:
        """Raise the on-disk reservation to at least ``up_to_slot`` (max across processes)."""
        assert self.state_path is not None
        try:
            with open(self.state_path + ".lock", "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                on_disk = self._read_reservation(int(self._clock()))
                new_reservation = max(on_disk, up_to_slot)
                temp_path = f"{self.state_path}.{os.getpid()}.tmp"
                with open(temp_path, "w", encoding="ascii") as temp_file:
                    temp_file.write(f"{_STATE_MAGIC} {new_reservation}\n")
                os.replace(temp_path, self.state_path)
        except OSError as exc:
            # IDs stay unique within this run; only restart-uniqueness is weakened until
            # the next successful write. Exposed for metrics/logging by the caller.
            self.last_persist_error = exc
            self._reserved = up_to_slot
            return
        self.last_persist_error = None
        self._reserved = new_reservation
