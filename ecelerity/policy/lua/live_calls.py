"""The daemon's hot path into Lua: one validation callout of one session, per call.

Called by modules/scriptlet.py (ScriptletInstance.run) for every Lua hook a
validation phase runs, and by benchmarks/lua_policy_cost.py. What a call costs is
what issue 9 budgets (a 5-hook policy <= 50 us per message), so everything that can
be made once is made once:
  * per runtime and callout: the chain of (Lua function, module table, label) from
    registry.chain(), rebuilt only when a script registers a module again
    (registry.generation);
  * per session, on the ValidationContext (it lives as long as the connection): the
    vctx and ac proxies and the CallContext that msys.expandMacro reads;
  * per message, in vctx.message_state (dropped by reset_message): ONE msg proxy from
    rcptto to set_binding -- Momentum's ec_message is one object for the message's
    life -- given the phase, its recipient and the InboundMessage before each call;
so a hook call is one resume of a reused Lua worker plus what the script calls back.
The vctx/ac/msg proxies stand for sandbox.hold() numbers, released with their session
or message (_Held): making them passes no fresh Python object into Lua (lupa keeps such
an object alive until Lua's collector finalizes it, ~4 us each per session/message).

Nothing Lua can reach holds the ValidationContext or the InboundMessage strongly
(weak proxies: a cycle running through Lua is invisible to Python's collector, and
Lua's collector frees proxies late; a msg used after its message is gone raises a
Lua error). Never does I/O and never
raises for a script failure: it comes back as the failure text (the paniclog has
the traceback).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

from ..phases import CONTINUE, DONE
from .bindings_real import LiveAccept, LiveMessage, LiveVctx
from .registry import VALIDATE_DONE
from .runtime import CallContext

# phases whose first hook argument is the InboundMessage (smtp/accept.py)
DATA_PHASES = frozenset(("data", "data_spool", "data_spool_each_rcpt", "set_binding"))
_SESSION_KEY = "_lua_session"  # in the ValidationContext's __dict__
_MESSAGE_KEY = "lua"           # in ValidationContext.message_state


class _Held:
    """hold() numbers released when this goes (with its session or its message), so
    the objects behind the proxies live exactly as long as what they stand for."""

    __slots__ = ("handles", "numbers")

    def __init__(self, sandbox: Any, *objects: Any) -> None:
        self.handles = sandbox.handles
        self.numbers = tuple(sandbox.hold(obj) for obj in objects)

    def __del__(self) -> None:
        pop = self.handles.pop
        for number in self.numbers:
            pop(number, None)


class _Session:
    """What one connection keeps for its Lua calls."""

    __slots__ = ("runtime", "weak_vctx", "vctx_proxy", "accept_proxy", "context", "held")


class PhaseCaller:
    """Calls one runtime's Lua hooks for the validation phases.

    ``bindings`` is the runtime's LiveBindings (lib_inject.bindings_of);
    ``session_count(peer_ip)`` answers ``ac:inbound_session_count()``."""

    def __init__(self, runtime: Any, bindings: Any,
                 session_count: Callable[[str], int] = lambda peer_ip: 0, *,
                 error_reply: tuple[int, str] = (451, "4.3.0 [internal] policy script error"),
                 on_rejection: Callable[[Any], None] = lambda vctx: None) -> None:
        self.runtime = runtime
        self.bindings = bindings
        self.session_count = session_count
        self.error_reply = error_reply
        self.on_rejection = on_rejection  # a Lua hook left a 4xx/5xx code (msys.audit)
        self.calls = 0
        self.failures = 0
        self._chains: dict[str, tuple] = {}
        self._generation = -1

    def run(self, phase: str, callout: str, vctx: Any, args: tuple) -> int:
        """The validation hook: run the callout, then apply what the scripts left --
        msg edits committed into the message, msg:code / msg:discard onto the vctx, a
        failure answered with ``error_reply``. Returns phases.DONE or CONTINUE."""
        verdict, failure, msg = self.call(phase, callout, vctx, args)
        self.calls += 1
        if vctx.code is not None and vctx.code.code >= 400:
            self.on_rejection(vctx)
        if failure is not None:
            self.failures += 1
            vctx.set_code(*self.error_reply)
            return DONE  # the phase ends on the configured temporary failure
        if msg is not None:
            msg.commit()
            if msg.code is not None:
                code, text = msg.code
                if code == 0:  # Momentum: a code of 0 takes the code from the text
                    head, _, text = text.partition(" ")
                    code = int(head) if head.isdigit() else 550
                vctx.set_code(code, text)
            if msg.discarded is not None:
                vctx.discard()
        return verdict

    def call(self, phase: str, callout: str, vctx: Any,
             args: tuple) -> tuple[int, str | None, LiveMessage | None]:
        """Run every registered module's ``callout`` in order until one returns
        VALIDATE_DONE or fails. Returns ``(phases.DONE | phases.CONTINUE, failure text
        or None, the msg the hooks saw or None)`` (a failure is DONE), nothing applied."""
        runtime = self.runtime
        registry = runtime.registry
        if self._generation != registry.generation:
            self._chains = {}
            self._generation = registry.generation
        chain = self._chains.get(callout)
        if chain is None:
            chain = self._chains[callout] = registry.chain(callout)
        session = vctx.__dict__.get(_SESSION_KEY)
        if session is None or session.runtime is not runtime:
            session = self._new_session(vctx)
        msg = None
        vc, ac = session.vctx_proxy, session.accept_proxy
        if phase in DATA_PHASES:
            msg, proxy = self._message(session, vctx, args[0],
                                       args[1] if phase == "data_spool_each_rcpt" else None, phase)
            lua_args = (proxy,) if phase == "set_binding" else (proxy, ac, vc)
        elif phase == "connect":
            lua_args = (ac, vc)
        elif phase == "rcptto":
            msg, proxy = self._message(session, vctx, None, args[1] if len(args) > 1 else None,
                                       phase)
            lua_args = (proxy, _wire(args[0]), ac, vc)
        elif phase == "rcptto_list":  # before DATA: the envelope only, every recipient
            msg, proxy = self._message(session, vctx, None, None, phase)
            lua_args = (proxy, ac, vc)
        else:  # ehlo, mailfrom (and any string phase)
            lua_args = (_wire(args[0] if args else ""), ac, vc)
        context = session.context
        context.msg = msg
        invoke = runtime.invoke
        verdict = CONTINUE
        failure = None
        for function, table, what, _name in chain:
            ok, value = invoke(function, (table, *lua_args), what, context)
            if not ok:
                verdict, failure = DONE, f"{what}: {value}"
                break
            if value == VALIDATE_DONE:
                verdict = DONE
                break
        context.msg = None
        return verdict, failure, msg

    def _new_session(self, vctx: Any) -> _Session:
        weak = weakref.proxy(vctx)
        session = _Session()
        session.runtime = self.runtime
        session.weak_vctx = weak
        peer_ip = vctx.conn.get("peer_ip") or ""
        count = self.session_count
        bindings = self.bindings
        sandbox = self.runtime.sandbox
        held = session.held = _Held(sandbox, LiveVctx(weak),
                                    LiveAccept(weak, lambda: count(peer_ip), self.runtime.log))
        session.vctx_proxy, session.accept_proxy = sandbox.make_two(
            bindings.vctx, held.numbers[0], bindings.accept, held.numbers[1])
        session.context = CallContext(vctx=weak)
        vctx.__dict__[_SESSION_KEY] = session
        return session

    def _message(self, session: _Session, vctx: Any, inbound: Any, recipient: Any,
                 phase: str) -> tuple[LiveMessage, Any]:
        """The message's one LiveMessage and its proxy, made at its first Lua call."""
        state = vctx.message_state.get(_MESSAGE_KEY)
        if state is not None and state[0] is session and state[1] is vctx.mess:
            msg, proxy, known = state[2], state[3], state[4]
            if known is inbound or known is None:
                if known is not inbound:  # DATA arrived: the msg of rcptto goes on
                    vctx.message_state[_MESSAGE_KEY] = (session, vctx.mess, msg, proxy, inbound,
                                                        state[5])
                msg.next_phase(_weak(inbound), recipient, phase)
                return msg, proxy
        msg = LiveMessage(session.weak_vctx, _weak(inbound), recipient, phase=phase)
        held = _Held(self.runtime.sandbox, msg)
        proxy = self.bindings.msg(held.numbers[0])
        # vctx.mess is replaced by reset_message: a second key for "the same message"
        vctx.message_state[_MESSAGE_KEY] = (session, vctx.mess, msg, proxy, inbound, held)
        return msg, proxy


def _weak(inbound: Any) -> Any:
    """The msg's view of the session's message: weak, so a msg a script keeps (or Lua's
    collector has not reached yet) never keeps a finished message's bytes alive."""
    return None if inbound is None else weakref.proxy(inbound)


def _wire(text: Any) -> bytes:
    """An SMTP command string as Lua gets it (bytes; undecodable bytes kept)."""
    return str(text).encode("utf-8", "surrogateescape")
