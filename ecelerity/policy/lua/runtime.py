"""The hub's Lua runtime: one sandboxed Lua state, scripts loaded into it, calls into it.

Owned by the scriptlet service (one per hub; a reload builds a new one and
swaps it in, sessions holding the old one finish with it). Every call into Lua
runs on a Lua coroutine of its own (a reusable worker, taken from an idle list
for the call), resumed by the calling greenlet, so greenlets that block inside
Lua (msys.sleep, DNS...) each keep their own Lua stack and only suspend
themselves -- never the hub. A script error never escapes as a
Python exception: it is written to the paniclog with its Lua traceback and
returned as a CallResult with ``error`` set; the caller turns that into the
configured temporary failure. Never reads configuration itself (the
scriptlet settings and Config come in through the constructor).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import gevent
from gevent import getcurrent

from .sandbox import DEFAULT_LIMITS, WORKER_DONE, Limits, Sandbox, from_lua, to_lua

PanicLogWriter = Callable[[str, str], None]  # (module, text), like App.log
MAX_IDLE_WORKERS = 64  # reusable Lua coroutines kept between calls
_PLAIN = (int, float, bool, bytes)  # Lua values that arrive as plain Python values


@dataclass
class CallResult:
    """What one call into Lua gave back: its return values, or an error text."""

    values: tuple = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def first(self) -> Any:
        return self.values[0] if self.values else None


_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


class CallContext:
    """Who is calling (visible to msys.expandMacro and friends during the call).
    ``extra`` is read-only during the call (console output capture, delivery msg)."""

    __slots__ = ("vctx", "msg", "extra")

    def __init__(self, vctx: Any = None, msg: Any = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        self.vctx = vctx
        self.msg = msg
        self.extra = _NO_EXTRA if extra is None else extra


_NO_CONTEXT = CallContext()  # outside calls (never written to)


class ScriptError(Exception):
    """A script failed to load (syntax error, missing file); message names the script."""


class LuaRuntime:
    """One per hub. ``engine`` None = best available (LuaJIT, else Lua 5.4)."""

    def __init__(self, engine: str | None = None, *, limits: Limits = DEFAULT_LIMITS,
                 paniclog: PanicLogWriter | None = None, script_path: list[str] | None = None,
                 readable_dirs: list[str] | None = None, config: Any = None) -> None:
        self._paniclog = paniclog or (lambda module, text: None)
        myself = weakref.ref(self)  # Lua keeps print_line alive: never a strong ref to self
        self.sandbox = Sandbox(engine, limits=limits,
                               print_line=lambda line: myself() and myself()._print_line(line))
        self.engine = self.sandbox.engine
        self.version = self.sandbox.version
        self.script_path = [str(Path(p)) for p in (script_path or [])]
        self.readable_dirs = [str(Path(p).resolve()) for p in (readable_dirs or self.script_path)]
        self.config = config
        self._contexts: dict[Any, CallContext] = {}  # greenlet -> context; popped after each call
        self.scripts: dict[str, str] = {}  # script name -> file it came from
        self._idle_workers: list[Any] = []  # see call()
        self._idle_hook_workers: list[Any] = []  # live_calls.py's (sandbox.lua hook_worker)
        from . import libraries  # late: libraries import this module's types
        from .registry import ModuleRegistry
        self.registry = ModuleRegistry(self)
        self.msys = libraries.install_all(self)

    # -- logging ---------------------------------------------------------------------
    def log(self, text: str) -> None:
        self._paniclog("scriptlet", text)

    def _print_line(self, line: str) -> None:
        captured = self.current().extra.get("print")
        if captured is not None:  # a console command (msys.registerControl) collects its output
            captured.append(line)
        else:
            self.log(line)

    # -- values ------------------------------------------------------------------------
    def to_lua(self, value: Any) -> Any:
        return to_lua(self.sandbox, value)

    @staticmethod
    def from_lua(value: Any) -> Any:
        return from_lua(value)

    def table(self, value: Any = None) -> Any:
        return self.sandbox.table(value)

    # -- loading -----------------------------------------------------------------------
    def load_source(self, text: str | bytes, name: str) -> Any:
        """Compile and run a script body in a fresh environment; returns its env."""
        source = text.encode() if isinstance(text, str) else text
        env = self.sandbox.new_env(name.encode())
        loaded = self.sandbox.load_in(env, source, ("@" + name).encode())
        chunk, problem = (loaded if isinstance(loaded, tuple) else (loaded, None))
        if chunk is None:
            raise ScriptError(f"{name}: {_text(problem)}")
        result = self.call(chunk, what=f"loading {name}")
        if not result.ok:
            raise ScriptError(result.error)
        self.scripts[name] = name
        return env

    def load_file(self, path: str) -> Any:
        """Load one script file (named in tracebacks by display_name)."""
        try:
            source = Path(path).read_bytes()
        except OSError as exc:
            raise ScriptError(f"{path}: cannot read script: {exc.strerror}") from exc
        return self.load_source(source, self.display_name(path))

    def display_name(self, path: str) -> str:
        """The name a script has in errors: relative to its script-path directory
        (Lua truncates long chunk names), else the file name."""
        resolved = Path(path).resolve()
        for directory in self.script_path:
            try:
                return str(resolved.relative_to(Path(directory).resolve()))
            except ValueError:
                continue
        return resolved.name

    def resolve(self, dotted: str) -> str:
        """``myscripts.ehlo_phase`` -> the first ``myscripts/ehlo_phase.lua`` on the
        script path ('.' or '/' as separator, no .lua suffix)."""
        relative = dotted.replace(".", "/")
        if relative.endswith("/lua"):
            relative = relative[:-4]
        if ".." in relative.split("/") or relative.startswith("/"):
            raise ScriptError(f"script name {dotted!r} must stay inside the script path")
        for directory in self.script_path:
            candidate = Path(directory) / f"{relative}.lua"
            if candidate.is_file():
                return str(candidate)
        raise ScriptError(f"script {dotted!r} not found as {relative}.lua in "
                          f"{', '.join(self.script_path) or '(empty script path)'}")

    # -- calling -----------------------------------------------------------------------
    def current(self) -> CallContext:
        """The context of the call running in this greenlet (empty outside calls)."""
        return self._contexts.get(getcurrent()) or _NO_CONTEXT

    def call(self, function: Any, *args: Any, what: str = "call",
             context: CallContext | None = None) -> CallResult:
        """Run ``function(*args)`` on a worker coroutine of its own under the call budget.

        Workers (sandbox.lua ``worker``) are reused: an idle one is taken for the call
        and given back after it, so a call costs one resume instead of creating a Lua
        coroutine. A worker whose call did not end cleanly (a script's own yield, a
        Python-level failure) is dropped, never reused."""
        returned = self._resume(function, args, context)
        if type(returned) is str:
            return self._failed(what, returned)
        if returned[1] is not True:
            return self._failed(what, _script_error(returned))
        if len(returned) == 2:
            return CallResult()
        anchor = self.sandbox.anchor
        return CallResult(values=tuple(anchor(value) for value in returned[2:]))

    def invoke(self, function: Any, args: tuple, what: str,
               context: CallContext | None = None) -> tuple[bool, Any]:
        """call() for the hot path (validation hooks): ``(True, first value)`` or
        ``(False, error text)``, without building a CallResult; the error is logged
        to the paniclog exactly as call() does. ``what`` should be a prepared string."""
        returned = self._resume(function, args, context)
        if type(returned) is str:
            return False, self._failed(what, returned).error
        if returned[1] is not True:
            return False, self._failed(what, _script_error(returned)).error
        if len(returned) == 2:
            return True, None
        first = returned[2]
        if first is None or type(first) in _PLAIN:
            return True, first
        return True, self.sandbox.anchor(first)

    def _resume(self, function: Any, args: tuple, context: CallContext | None) -> Any:
        """One resume of an idle (or new) worker: its yield ``(WORKER_DONE, ok, ...)``,
        or the text of a failure that happened outside the script's xpcall."""
        me = getcurrent()
        contexts = self._contexts
        if context is not None:
            previous = contexts.get(me)
            contexts[me] = context
        sandbox = self.sandbox
        idle = self._idle_workers
        try:
            if idle:
                worker = idle.pop()
                returned = worker.send((sandbox.limits.ticks, function, *args))
            else:
                worker = sandbox.worker.coroutine(sandbox.limits.ticks, function, *args)
                returned = worker.send(None)
        except sandbox.LuaMemoryError as exc:
            return f"memory limit exceeded: {_text(exc) or 'not enough memory'}"
        except sandbox.LuaError as exc:
            return _text(exc)
        except Exception as exc:  # a Python library function raised outside Lua's pcall
            return f"{type(exc).__name__}: {exc}"
        finally:
            if context is not None:
                if previous is None:
                    contexts.pop(me, None)
                else:
                    contexts[me] = previous
        if type(returned) is not tuple or not returned or returned[0] is not WORKER_DONE:
            return "coroutine.yield outside a coroutine the script made"
        if len(idle) < MAX_IDLE_WORKERS:
            idle.append(worker)
        return returned

    def _failed(self, what: str, message: str) -> CallResult:
        self.log(f"{what}: {message}")
        return CallResult(error=message.splitlines()[0] if message else "error")

    def spawn_call(self, delay: float, function: Any, *args: Any) -> gevent.Greenlet:
        """Call ``function`` later in its own greenlet (msys.timer)."""
        return gevent.spawn_later(max(0.0, float(delay)), self.call, function, *args,
                                  what="timer")


def _script_error(returned: tuple) -> str:
    """The error text of a worker's ``(WORKER_DONE, false, message)``."""
    message = returned[2] if len(returned) > 2 else b"unknown error"
    if message == b"not enough memory":
        message = b"memory limit exceeded (not enough memory)"
    return _text(message)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
