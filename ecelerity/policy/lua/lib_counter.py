"""msys.counter.*: named in-process counters shared by every script of a runtime.

Installed by libraries.py. A counter handle is its name (a string), so
``local c = msys.counter.open("spam"); msys.counter.inc(c)`` and
``msys.counter.inc("spam")`` are the same. Subset: open(name) -> name,
inc(c) -> new value, add(c, n) -> new value, read(c) -> value (0 when never set),
reset(c) -> 0, unlink(name) -> true. Process memory only: not persistent,
not shared between processes. Never does I/O.
"""
from __future__ import annotations

from typing import Any


def _counters(runtime: Any) -> dict[bytes, int]:
    return runtime.__dict__.setdefault("_counters", {})


def open_counter(runtime: Any, name: bytes, *flags: Any) -> bytes:
    _counters(runtime).setdefault(bytes(name), 0)
    return bytes(name)


def add(runtime: Any, name: bytes, amount: Any = 1) -> int:
    counters = _counters(runtime)
    counters[bytes(name)] = counters.get(bytes(name), 0) + int(amount)
    return counters[bytes(name)]


def inc(runtime: Any, name: bytes) -> int:
    return add(runtime, name, 1)


def read(runtime: Any, name: bytes) -> int:
    return _counters(runtime).get(bytes(name), 0)


def reset(runtime: Any, name: bytes) -> int:
    _counters(runtime)[bytes(name)] = 0
    return 0


def unlink(runtime: Any, name: bytes) -> bool:
    _counters(runtime).pop(bytes(name), None)
    return True


FUNCTIONS = {"msys.counter.open": open_counter, "msys.counter.add": add,
             "msys.counter.inc": inc, "msys.counter.read": read,
             "msys.counter.reset": reset, "msys.counter.unlink": unlink}
