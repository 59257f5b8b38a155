"""The start-up heap is moved out of the cyclic collector's way (gc.freeze).

Who calls it: daemon/main.py and daemon/workers.py once the App has started (everything
loaded, nothing served yet), and daemon/app.py after a reload swapped the configuration.

Why (issue 9, p99 end-of-DATA -> 250): a full (generation 2) collection walks every
container object the process holds. Most of them are the start-up heap (modules, the
configuration, compiled Sieve scripts, the Lua runtimes), which never becomes garbage;
under the relay load each full collection paused the hub for 16-23 ms, stalling every
session in flight, and the ~1% of messages caught behind one make the p99.
``freeze_startup_heap`` collects once, then freezes what is left, so later collections
walk only what was created since (9.5 ms in the same run). Frozen objects are still
freed by reference counting; only cycles among them would stay, which is why a reload
first unfreezes and collects (the old configuration's cycles go) before freezing again.
``ECELERITY_GC_FREEZE=0`` turns it off (A/B runs). It must never run while a session is
being served from inside a collection callback, and never change what gets freed
except those cycles.
"""
from __future__ import annotations

import gc
import os

ENV_VAR = "ECELERITY_GC_FREEZE"


def enabled() -> bool:
    return os.environ.get(ENV_VAR, "1") not in ("0", "")


def freeze_startup_heap() -> int:
    """Collect, then freeze everything alive; returns how many objects are frozen."""
    if not enabled():
        return 0
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def refreeze_after_reload() -> int:
    """Unfreeze (so the replaced configuration's cycles can be collected), collect,
    freeze again; returns how many objects are frozen."""
    if not enabled():
        return 0
    gc.unfreeze()
    return freeze_startup_heap()
