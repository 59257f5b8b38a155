"""Single-frame versions of the proxy methods policies call on every message.

Used by sandbox.py's make_class: a method that carries a ``fast_path`` attribute (set
here with ``fast_path_for``) is handed to Lua as ``fast_path(guarded, handles)``
instead of its guard_method wrapper. A Lua -> Python callback costs a few Python
frames (guard, method, helpers); these do the common case -- a hold() number, a byte
string argument, no error -- in one frame, and for anything else (another argument
shape, an unknown handle, any exception) call ``guarded`` with the very same
arguments, so the answer and the error text are the reference method's. Only for
methods whose fast part changes nothing before it can fail (a retry through the
guarded path must not do anything twice). Never does I/O.
"""
from __future__ import annotations

from typing import Any, Callable

# (guarded, handles, weakref to the Sandbox) -> the function Lua calls. Lua owns it: it
# must hold no Lua object and no strong ref to the sandbox (like guard_method).
FastFactory = Callable[[Callable, dict, Any], Callable]


def fast_path_for(method: Callable, factory: FastFactory) -> None:
    """Mark ``method`` (a plain function, read through its bound methods) as having
    the fast path ``factory(guarded, handles, sandbox_ref)``."""
    method.fast_path = factory  # type: ignore[attr-defined]


def vctx_get(guarded: Callable, handles: dict, sandbox_ref: Any) -> Callable:
    """``vctx:get(type, key)`` straight from the real context's conn / mess dict."""
    def get(obj: Any, *args: Any) -> Any:
        try:
            which, key = args
            real = handles[obj].real
            store = real.conn if which == b"conn" else real.mess if which == b"mess" else None
            value = store.get(key.decode("utf-8", "surrogateescape"))  # type: ignore[union-attr]
            if value is None:
                return None
            if type(value) is str:
                return value.encode("utf-8", "surrogateescape")
        except Exception:  # noqa: BLE001 - the guarded path answers (and names the error)
            pass
        return guarded(obj, *args)
    return get


def vctx_set(guarded: Callable, handles: dict, sandbox_ref: Any) -> Callable:
    """``vctx:set(type, key, value)`` of a string into the conn / mess dict."""
    def set_(obj: Any, *args: Any) -> Any:
        try:
            which, key, value = args
            real = handles[obj].real
            store = real.conn if which == b"conn" else real.mess if which == b"mess" else None
            if type(value) is bytes and store is not None:
                # the last step: nothing was changed when anything before it failed
                store[key.decode("utf-8", "surrogateescape")] = value.decode(
                    "utf-8", "surrogateescape")
                return None
        except Exception:  # noqa: BLE001 - the guarded path answers (and names the error)
            pass
        return guarded(obj, *args)
    return set_


def msg_header(guarded: Callable, handles: dict, sandbox_ref: Any) -> Callable:
    """``msg:header(name)`` reading values (``(PY_LIST, values...)`` as bindings.py
    answers: sandbox.lua builds the array); every other use goes the guarded way."""
    def header(obj: Any, *args: Any) -> Any:
        if len(args) == 1:
            try:
                values = handles[obj].header(args[0].decode("utf-8", "surrogateescape"))
                if len(values) == 1 and type(values[0]) is str:
                    return sandbox_ref().PY_LIST, values[0].encode("utf-8", "surrogateescape")
                if not values:
                    return (sandbox_ref().PY_LIST,)
            except Exception:  # noqa: BLE001 - the guarded path answers
                pass
        return guarded(obj, *args)
    return header
