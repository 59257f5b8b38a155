"""Compiled-script caches: an LRU keyed by source hash, with an optional time to live.

compile_cached() goes through the process-wide SCRIPT_CACHE (the offline tester,
ec_include, the include extension); each sieve module instance has its own
ScriptCache sized by ``cache_size``, whose ``cache_life`` makes a script file be
re-read and recompiled once its compiled form is older than that (ScriptFile).
Never runs a script.
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Callable

from .compiler import CompiledScript, compile_script
from .errors import SieveCompileError


class ScriptCache:
    """LRU of compiled scripts keyed by (source hash, file name, include dirs)."""

    def __init__(self, size: int = 200):
        self.size = size
        self.entries: OrderedDict[tuple, CompiledScript] = OrderedDict()

    def get(self, text: str, filename: str, **kwargs) -> CompiledScript:
        dirs = kwargs.get("include_dirs") or {}
        key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), filename,
               tuple(sorted(dirs.items())), kwargs.get("include_chain", ()))
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit
        compiled = compile_script(text, filename, **kwargs)
        self.entries[key] = compiled
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return compiled

    def flush(self) -> int:
        count = len(self.entries)
        self.entries.clear()
        return count


SCRIPT_CACHE = ScriptCache()


def compile_cached(text: str, filename: str = "<script>", **kwargs) -> CompiledScript:
    """compile_script through the process-wide cache (a changed text recompiles)."""
    return SCRIPT_CACHE.get(text, filename, **kwargs)


class ScriptFile:
    """One configured script file; ``current()`` recompiles it when ``life`` has passed.

    A changed file that no longer compiles keeps the previous compiled script (the
    error goes to ``log``); an unchanged file costs one read and one hash per
    ``life`` seconds. ``life`` <= 0 never re-reads (recompile on reload only).
    """

    def __init__(self, path: str, compiled: CompiledScript, cache: ScriptCache, life: float,
                 log: Callable[[str], None] = lambda text: None,
                 clock: Callable[[], float] = time.monotonic):
        self.path, self.compiled, self.cache, self.life = path, compiled, cache, life
        self.log, self.clock = log, clock
        self.loaded_at = clock()

    def current(self) -> CompiledScript:
        if self.life > 0 and self.clock() - self.loaded_at >= self.life:
            self.refresh()
        return self.compiled

    def refresh(self) -> None:
        self.loaded_at = self.clock()
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
            self.compiled = self.cache.get(text, self.path)
        except (OSError, UnicodeDecodeError) as exc:
            self.log(f"{self.path}: cannot re-read sieve script, keeping the loaded one: {exc}")
        except SieveCompileError as exc:
            self.log(f"sieve script no longer compiles, keeping the loaded one: {exc}")
