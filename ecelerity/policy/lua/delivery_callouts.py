"""Delivery-side Lua callouts: Momentum's logging hooks, fed by the queue manager's results.

modules/scriptlet.py makes one DeliveryCallouts per loaded scriptlet when some
registered Lua module implements one of CALLOUTS, ``attach``es it to
``app.queue_manager.observers`` and ``detach``es it at unload. For every delivery
result the queue manager applies, Lua modules are called as::

    mod:core_log_delivery_v1(msg, dc, now, note)            -- the remote took it (2xx)
    mod:core_log_transient_failure_v1(msg, dc, now, note)   -- 4xx / no answer: requeued
    mod:core_log_permanent_failure_v1(msg, dc, now, note)   -- 5xx, or retries/expiry over

``msg`` is a read-only delivery_message.DeliveryMessage (msg:header, msg:mailfrom,
msg:rcptto, msg:id, msg:code() -> code, "enhanced text"...), also what
msys.delivery.ob_get_current_message() returns during the call. ``dc`` (ours: Momentum's
delivery construct has no documented Lua surface) is a table {outcome=, code=,
enhanced=, text=, domain=, binding=, retries=}; ``now`` is the Unix time of the
result; ``note`` is the whole reply ("550 5.1.1 no such user"). Return values are
ignored: these hooks observe, they cannot change what happened.

Never slows or breaks delivery: the observer only queues the result (bounded: past
MAX_PENDING results are dropped and counted, said once in the paniclog) and never
raises; the callouts run afterwards in one greenlet of their own, in order, each
under the runtime's call budget; a Lua error goes to the paniclog with its
traceback. Holds the runtime weakly (the scriptlet instance owns it).
"""
from __future__ import annotations

import time
import weakref
from collections import deque
from typing import Any

import gevent

from .delivery_message import DeliveryMessage, parse_detail
from .runtime import CallContext

CALLOUTS = {"delivered": "core_log_delivery_v1",
            "transient": "core_log_transient_failure_v1",
            "failed": "core_log_permanent_failure_v1"}
MAX_PENDING = 10_000  # results waiting for Lua; beyond it they are dropped (and counted)


class DeliveryCallouts:
    """The observer (``observe``) and the greenlet that calls the Lua callouts."""

    def __init__(self, runtime: Any, bindings: Any, spool: Any) -> None:
        self.runtime = runtime if isinstance(runtime, weakref.ProxyTypes) else weakref.proxy(runtime)
        self.bindings = bindings
        self.spool = spool
        self.wanted = {outcome for outcome, callout in CALLOUTS.items()
                       if runtime.registry.hooks_for(callout)}
        self.calls = 0
        self.failures = 0
        self.dropped = 0
        self._pending: deque[tuple[str, Any, str, float]] = deque()
        self._greenlet: gevent.Greenlet | None = None
        self._manager: Any = None
        self._said_full = False

    # -- the queue manager's side ------------------------------------------------------
    def attach(self, manager: Any) -> None:
        self._manager = manager
        manager.observers.append(self.observe)

    def detach(self) -> None:
        """Stop observing; results not yet handed to Lua are dropped."""
        manager, self._manager = self._manager, None
        if manager is not None:
            try:
                manager.observers.remove(self.observe)
            except ValueError:
                pass
        self._pending.clear()
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def observe(self, outcome: str, message: Any, detail: Any) -> None:
        """QueueManager observer: queue the result for Lua. Never raises."""
        try:
            if outcome not in self.wanted or self._manager is None:
                return
            if len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                if not self._said_full:
                    self._said_full = True
                    self.runtime.log(f"delivery callouts: {MAX_PENDING} results waiting for "
                                     "Lua; dropping results until the scripts catch up")
                return
            self._pending.append((outcome, message, str(detail), time.time()))
            if self._greenlet is None:
                self._greenlet = gevent.spawn(self._drain)
        except Exception:  # noqa: BLE001 - an observer must never disturb delivery
            self.dropped += 1

    # -- the Lua side ----------------------------------------------------------------------
    def _drain(self) -> None:
        try:
            while self._pending:
                self.run_one(*self._pending.popleft())
        finally:
            self._greenlet = None
            self._said_full = False

    def run_one(self, outcome: str, message: Any, detail: str, now: float) -> None:
        """Call every module's callout for one result (errors to the paniclog)."""
        runtime = self.runtime
        callout = CALLOUTS[outcome]
        try:
            code = parse_detail(detail)
            msg = DeliveryMessage(self.spool, message, code)
            proxy = self.bindings.msg(msg)
            enhanced, _, text = (code[1] if code else "").partition(" ")
            dc = runtime.to_lua({"outcome": outcome, "code": code[0] if code else 0,
                                 "enhanced": enhanced, "text": text or detail,
                                 "domain": message.domain, "retries": message.retries,
                                 "binding": message.binding or message.envelope.binding or ""})
            context = CallContext(vctx=msg.vctx, msg=msg, extra={"delivery_msg": proxy})
            note = detail.encode("utf-8", "replace")
            for function, table, what, _name in runtime.registry.chain(callout):
                self.calls += 1
                ok, _value = runtime.invoke(function, (table, proxy, dc, now, note), what, context)
                if not ok:
                    self.failures += 1
        except ReferenceError:
            self._pending.clear()  # the runtime was unloaded under us
        except Exception as exc:  # noqa: BLE001 - a broken callout never reaches delivery
            self.failures += 1
            try:
                runtime.log(f"{callout} for {getattr(message, 'id', '?')}: "
                            f"{type(exc).__name__}: {exc}")
            except ReferenceError:
                pass


def ob_get_current_message(runtime: Any) -> Any:
    """msys.delivery.ob_get_current_message() -> the msg of the running delivery
    callout, or nil outside one."""
    return runtime.current().extra.get("delivery_msg")


FUNCTIONS = {"msys.delivery.ob_get_current_message": ob_get_current_message}
