"""The Lua sandbox: a lupa LuaRuntime with the dangerous parts taken away.

Called by runtime.py (one per hub). Picks the engine (LuaJIT 2.1 preferred, Lua
5.4 otherwise), runs the trusted bootstrap sandbox.lua, then removes from the
real globals everything a script must never reach: ``os`` (beyond time/clock/
date), ``io``, ``debug``, ``require`` of C modules, ``string.dump``, binary
``load``, ``dofile``/``loadfile`` outside the script path, ``python.*``.

Limits, per call:
  * instructions: a count hook every ``HOOK_EVERY`` VM instructions spends one
    tick of the call's budget; at zero the call fails ("instruction budget
    exceeded") and pcall cannot swallow it. LuaJIT does not run hooks inside
    compiled traces, so on LuaJIT the JIT compiler is switched off (interpreter
    only) -- safety first; benchmarks/lua_policy_cost.py measures the cost.
  * memory: Lua 5.4 uses lupa's allocator cap (``max_memory``), exact. LuaJIT
    (64-bit) has no allocator cap in lupa, so the hook checks the heap size
    every tick, and string.rep / table.concat refuse results larger than
    ``max_string_bytes``: best effort, other C functions can still overshoot
    by one allocation.
  * recursion: Lua's own stack limits ("stack overflow").

Python objects are never handed to scripts: attribute access on any Python
object from Lua is refused, and vctx/msg/ac are Lua proxy tables (make_class).
This module never does I/O except reading the bootstrap file.
"""
from __future__ import annotations

import importlib
import itertools
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

BOOTSTRAP = Path(__file__).with_name("sandbox.lua")
HOOK_EVERY = 1000  # VM instructions per budget tick
ENGINES = {"luajit": "lupa.luajit21", "lua54": "lupa.lua54"}

# Globals removed from the real global table once the bootstrap captured what it needs.
_UNSAFE_GLOBALS = ("os", "io", "debug", "require", "dofile", "loadfile", "load",
                   "loadstring", "package", "module", "setfenv", "getfenv", "newproxy",
                   "collectgarbage", "python", "jit", "ffi", "string", "print")


@dataclass(frozen=True)
class Limits:
    """Per-call limits. ticks * HOOK_EVERY is the instruction budget of one call."""

    ticks: int = 20_000                 # 20M instructions
    memory_bytes: int = 256 * 1024 * 1024
    max_string_bytes: int = 64 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class _WorkerDone:
    """The marker a reusable worker coroutine yields after each call (see sandbox.lua)."""

    __slots__ = ()


WORKER_DONE = _WorkerDone()


class LuaEngineUnavailable(RuntimeError):
    """The requested Lua engine is not in the installed lupa."""


def available_engines() -> list[str]:
    """The engine names lupa offers here, preferred first."""
    found = []
    for name, module_name in ENGINES.items():
        try:
            importlib.import_module(module_name)
        except ImportError:
            continue
        found.append(name)
    return found


def _deny_attribute(obj: Any, attr_name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python attributes are not reachable from policy scripts")


class Sandbox:
    """One sandboxed Lua state. ``base`` is the shared read-only-ish global table,
    ``runner``/``load_in``/``new_env``/``make_class``/``class_of`` come from sandbox.lua."""

    def __init__(self, engine: str | None = None, *, limits: Limits = DEFAULT_LIMITS,
                 print_line: Callable[[str], None] = lambda line: None) -> None:
        engine = engine or available_engines()[0]
        if engine not in ENGINES:
            raise LuaEngineUnavailable(f"unknown Lua engine {engine!r} (have {sorted(ENGINES)})")
        try:
            lupa_module = importlib.import_module(ENGINES[engine])
        except ImportError as exc:
            raise LuaEngineUnavailable(f"Lua engine {engine!r} is not available: {exc}") from exc
        self.engine = engine
        self.limits = limits
        options: dict[str, Any] = dict(encoding=None, register_eval=False,
                                       register_builtins=False, unpack_returned_tuples=True,
                                       attribute_filter=_deny_attribute)
        if engine != "luajit":
            options["max_memory"] = limits.memory_bytes
        self.lua = lupa_module.LuaRuntime(**options)
        self.LuaError = lupa_module.LuaError
        self.lua_type = lupa_module.lua_type
        self.LuaMemoryError = getattr(lupa_module, "LuaMemoryError", lupa_module.LuaError)
        self.version = self.lua.eval("jit and jit.version or _VERSION").decode()
        if engine == "luajit":
            self.lua.execute("jit.off() jit.flush()")
        self.handles: dict[int, Any] = {}  # hold(): number -> object behind a proxy
        args = self.lua.table_from({
            b"hook_every": HOOK_EVERY,
            b"memory_limit_kb": limits.memory_bytes // 1024 if engine == "luajit" else 0,
            b"max_string_bytes": limits.max_string_bytes,
            b"print": lambda line: print_line(_text(line)),
            b"worker_done": WORKER_DONE,
            b"absorb": _absorber(self.handles),
        })
        chunk = self.lua.globals()[b"load"](BOOTSTRAP.read_bytes(), b"@sandbox.lua", b"t")
        bootstrap = chunk(args)
        self.base = bootstrap[b"base"]
        self.runner = bootstrap[b"runner"]
        self.worker = bootstrap[b"worker"]
        self.hook_worker = bootstrap[b"hook_worker"]  # live_calls.py's hook calls
        self.load_in = bootstrap[b"load_in"]
        self.new_env = bootstrap[b"new_env"]
        self._make_class = bootstrap[b"make_class"]
        self.class_of = bootstrap[b"class_of"]
        self.class_metatable = bootstrap[b"class_metatable"]  # msys.getClassMetaTable
        self.make_two = bootstrap[b"make_two"]
        self.PY_ERROR = bootstrap[b"PY_ERROR"]
        self.PY_LIST = bootstrap[b"PY_LIST"]  # (PY_LIST, *values) reaches Lua as an array
        self.wrap_py = bootstrap[b"wrap_py"]
        self.wrap_packed = bootstrap[b"wrap_packed"]
        # msg:header appends recorded in Lua (sandbox.lua defer_appends / flush_pending)
        self.defer_appends = bootstrap[b"defer_appends"]
        self._anchor = self.lua.table()
        self._next_handle = itertools.count(1).__next__
        real_globals = self.lua.globals()
        for name in _UNSAFE_GLOBALS:
            real_globals[name.encode()] = None

    def make_class(self, class_name: bytes, py_methods: Any, py_fields: Any = None,
                   dual: Any = None) -> Any:
        """A proxy maker for a class (sandbox.lua make_class): ``maker(obj)`` is a new Lua
        proxy for ``obj`` (a Python object, or a number from hold()). Each method is
        guarded (guard_method): its exceptions reach Lua as a plain error naming it.
        A method marked by fast_paths.fast_path_for gets its one-frame version in front
        of the guarded one."""
        label = _text(class_name)
        myself = weakref.ref(self)
        guarded = {}
        for name, method in py_methods.items():
            guarded[name] = guard_method(f"{label}:{_text(name)}", method, self.handles, myself)
            fast = getattr(method, "fast_path", None)  # fast_paths.py: one frame per call
            if fast is not None:
                guarded[name] = fast(guarded[name], self.handles, myself)
        return self._make_class(class_name, self.lua.table_from(guarded), py_fields, dual)

    def hold(self, obj: Any) -> int:
        """A number standing for ``obj`` behind proxies (``maker(hold(obj))``) until
        release(): Lua then holds no Python object, so making such a proxy costs no
        Python-object crossing (a fresh object passed into Lua is kept alive by lupa
        until Lua's collector finalizes it: ~4 us each on the hot path). A proxy used
        after release() raises a Lua error."""
        number = self._next_handle()
        self.handles[number] = obj
        return number

    def release(self, number: int) -> None:
        self.handles.pop(number, None)

    def anchor(self, value: Any) -> Any:
        """The same Lua value, re-homed on the main Lua state.

        lupa ties each Lua object it hands to Python to the lua_State it came from;
        objects received inside a call come from that call's coroutine, which Lua
        frees after the call (touching such an object later crashes). Anything
        Python keeps past the call (results, registered hooks, timer closures)
        must be anchored, and the original dropped before the coroutine ends."""
        if self.lua_type(value) is None:
            return value
        self._anchor[1] = value
        anchored = self._anchor[1]
        self._anchor[1] = None
        return anchored

    def table(self, value: Any = None) -> Any:
        """A Lua table from a Python list/dict (recursively; str becomes bytes)."""
        return to_lua(self, {} if value is None else value)


_GONE = object()


def _absorber(handles: dict) -> Callable[[Any, bytes], None]:
    """sandbox.lua's flush_pending: header lines Lua recorded for the msg behind a hold()
    number (live_message.LiveMessage.absorb). Lua owns it: it holds only the handles."""
    def absorb(number: Any, lines: bytes) -> None:
        target = handles.get(number) if type(number) is int else number
        absorb_lines = getattr(target, "absorb", None)
        if absorb_lines is not None:
            absorb_lines(lines)
    return absorb


def guard_method(label: str, method: Callable, handles: dict, sandbox: Any) -> Callable:
    """The Python side of one proxy method, called from Lua as ``guarded(obj, ...)``:
    resolves a hold() number to its object and turns any exception into
    ``(PY_ERROR, "label: message")`` (sandbox.lua raises it at the script's call site).
    Lua owns this closure: it holds no Lua object and only a weak ref to the sandbox."""
    def guarded(obj: Any, *args: Any) -> Any:
        try:
            if type(obj) is int:
                obj = handles.get(obj, _GONE)
                if obj is _GONE:
                    raise LookupError("the object is gone (its session or message ended)")
            return method(obj, *args)
        except Exception as exc:  # any failure is the script's error, never ours
            owner = sandbox()
            return (owner.PY_ERROR if owner is not None else None,
                    f"{label}: {exc}".encode("utf-8", "replace"))
    guarded.__name__ = label
    return guarded


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def to_lua(sandbox: Sandbox, value: Any) -> Any:
    """Python -> Lua: str -> bytes, list/tuple -> array, dict -> table, others as is."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        return sandbox.lua.table_from({to_lua(sandbox, k): to_lua(sandbox, v)
                                       for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return sandbox.lua.table_from([to_lua(sandbox, v) for v in value])
    return value


def from_lua(value: Any, *, depth: int = 0) -> Any:
    """Lua -> Python: tables with keys 1..n become lists, other tables dicts,
    strings stay bytes. Refuses cycles deeper than 64 levels."""
    if depth > 64:
        raise ValueError("table nesting too deep (cycle?)")
    if _is_lua_table(value):
        items = list(value.items())
        keys = [k for k, _ in items]
        if keys and all(isinstance(k, int) for k in keys) and sorted(keys) == list(
                range(1, len(keys) + 1)):
            return [from_lua(value[k], depth=depth + 1) for k in range(1, len(keys) + 1)]
        return {k: from_lua(v, depth=depth + 1) for k, v in items}
    return value


def _is_lua_table(value: Any) -> bool:
    kind = type(value).__name__
    return kind == "_LuaTable"
