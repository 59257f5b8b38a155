"""The daemon's hot path into Lua: one validation callout of one session, per call.

modules/scriptlet.py registers PhaseCaller.hook(phase, callout) -- one closure per
phase, the worker resume inlined -- as the phase's validation hook; run() is the same
call for tests and benchmarks/lua_policy_cost.py. What a call costs is what issue 9
budgets (a 5-hook policy <= 50 us per message), so everything that can be made once is
made once:
  * per runtime and callout: the chain of (Lua function, module table, label) from
    registry.chain(), rebuilt only when a script registers a module again
    (registry.generation);
  * per session, on the ValidationContext (it lives as long as the connection): the
    vctx and ac proxies (over one object, one hold() number) and the CallContext that
    msys.expandMacro reads;
  * per message, in vctx.message_state (dropped by reset_message): ONE msg proxy from
    rcptto to set_binding -- Momentum's ec_message is one object for the message's
    life -- given the phase, its recipient and the InboundMessage before each call;
so a hook call is one resume of a reused Lua worker plus what the script calls back.
From DATA on, the call names its msg proxy as the one whose plain header appends Lua
records itself (sandbox.lua defer_appends): they come back with the worker's yield and
are committed with the other edits, with no call into Python per append.
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
from weakref import proxy as _proxy

from gevent import getcurrent

from ..phases import CONTINUE, DONE
from .bindings_real import LiveAccept, LiveMessage, LiveVctx
from .registry import VALIDATE_DONE
from .runtime import MAX_IDLE_WORKERS, CallContext, _script_error, _text
from .sandbox import WORKER_DONE

_SESSION_KEY = "_lua_session"  # in the ValidationContext's __dict__
_MESSAGE_KEY = "lua"           # in ValidationContext.message_state


class _Held:
    """A hold() number released when this goes (with its session or its message), so
    the object behind the proxies lives exactly as long as what it stands for."""

    __slots__ = ("handles", "number")

    def __init__(self, sandbox: Any, obj: Any) -> None:
        self.handles = sandbox.handles
        self.number = sandbox.hold(obj)

    def __del__(self) -> None:
        self.handles.pop(self.number, None)


class _SessionObject(LiveVctx, LiveAccept):
    """What both the vctx and the ac proxy of one session stand for: one hold() number."""

    def __init__(self, real: Any, session_count: Callable[[], int],
                 log: Callable[[str], None]) -> None:
        self.real = self.vctx = real
        self.session_count = session_count
        self.log = log


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
        self._hooks: dict[tuple[str, str], Callable[..., int]] = {}  # run()'s, by phase

    def run(self, phase: str, callout: str, vctx: Any, args: tuple) -> int:
        """One call of the validation hook hook(phase, callout) would register."""
        hook = self._hooks.get((phase, callout))
        if hook is None:
            hook = self._hooks[(phase, callout)] = self.hook(phase, callout)
        return hook(vctx, *args)

    def hook(self, phase: str, callout: str) -> Callable[..., int]:
        """The validation hook of ``phase``: runs every registered module's ``callout``
        in order until one returns VALIDATE_DONE or fails, then applies what the
        scripts left -- msg edits committed into the message, msg:code / msg:discard
        onto the vctx, a failure answered with ``error_reply`` (the paniclog has the
        traceback). Returns phases.DONE or CONTINUE.

        One closure per phase, so a call is one Python frame around the Lua resumes:
        the phase's argument shape is chosen here, the worker resume of
        LuaRuntime.invoke is inlined (same errors, same worker reuse)."""
        runtime = self.runtime
        registry = runtime.registry
        sandbox = runtime.sandbox
        idle = runtime._idle_hook_workers  # sandbox.lua hook_worker coroutines
        contexts = runtime._contexts
        lua_error, memory_error = sandbox.LuaError, sandbox.LuaMemoryError
        failed = runtime._failed
        prepared: list = [-1, ()]  # [registry generation, chain]
        arguments = _ARGUMENTS.get(phase, _string_args)
        message_of = self._message
        ticks = sandbox.limits.ticks  # Limits is frozen and set once per sandbox
        new_session = self._new_session
        error_reply = self.error_reply
        on_rejection = self.on_rejection

        def run_lua(vctx: Any, *args: Any) -> int:
            if prepared[0] != registry.generation:
                prepared[0], prepared[1] = registry.generation, registry.chain(callout)
            session = vctx.__dict__.get(_SESSION_KEY)
            if session is None or session.runtime is not runtime:
                session = new_session(vctx)
            msg, lua_args = arguments(message_of, session, vctx, args, phase)
            # the msg whose header appends Lua may record (sandbox.lua): from DATA on
            editable = lua_args[0] if msg is not None and msg.inbound is not None else None
            context = session.context
            context.msg = msg
            verdict = CONTINUE
            failure = None
            me = getcurrent()
            previous = contexts.get(me)
            contexts[me] = context
            try:
                for function, table, what, _name in prepared[1]:
                    try:
                        if idle:
                            worker = idle.pop()
                            returned = worker.send((ticks, editable, function, table,
                                                    *lua_args))
                        else:
                            worker = sandbox.hook_worker.coroutine(ticks, editable, function,
                                                                   table, *lua_args)
                            returned = worker.send(None)
                    except memory_error as exc:
                        problem = f"memory limit exceeded: {_text(exc) or 'not enough memory'}"
                    except lua_error as exc:
                        problem = _text(exc)
                    except Exception as exc:  # a Python library function raised outside pcall
                        problem = f"{type(exc).__name__}: {exc}"
                    else:
                        if (type(returned) is not tuple or not returned
                                or returned[0] is not WORKER_DONE):
                            problem = "coroutine.yield outside a coroutine the script made"
                        else:
                            if len(idle) < MAX_IDLE_WORKERS:
                                idle.append(worker)
                            if returned[1] is not None:  # header lines Lua recorded
                                msg._lua_lines.append(returned[1])
                            if returned[2] is True:
                                if returned[3] == VALIDATE_DONE:
                                    verdict = DONE
                                    break
                                continue
                            problem = _script_error(returned[1:])  # (lines, false, text)
                    verdict, failure = DONE, f"{what}: {failed(what, problem).error}"
                    break
            finally:
                if previous is None:
                    contexts.pop(me, None)
                else:
                    contexts[me] = previous
                context.msg = None
            self.calls += 1
            code = vctx.code
            if code is not None and code.code >= 400:
                on_rejection(vctx)
            if failure is not None:
                self.failures += 1
                if msg is not None:
                    msg._lua_lines = []  # as the Python path's appends: never committed
                vctx.set_code(*error_reply)
                return DONE  # the phase ends on the configured temporary failure
            if msg is not None:
                if msg._model is not None or msg._appended or msg._lua_lines:
                    msg.commit()  # else it has nothing to do
                if msg.code is not None:
                    code, text = msg.code
                    if code == 0:  # Momentum: a code of 0 takes the code from the text
                        head, _, text = text.partition(" ")
                        code = int(head) if head.isdigit() else 550
                    vctx.set_code(code, text)
                if msg.discarded is not None:
                    vctx.discard()
            return verdict
        run_lua.__qualname__ = f"scriptlet:{callout}"
        return run_lua

    def _new_session(self, vctx: Any) -> _Session:
        weak = weakref.proxy(vctx)
        session = _Session()
        session.runtime = self.runtime
        session.weak_vctx = weak
        peer_ip = vctx.conn.get("peer_ip") or ""
        count = self.session_count
        bindings = self.bindings
        sandbox = self.runtime.sandbox
        held = session.held = _Held(sandbox, _SessionObject(weak, lambda: count(peer_ip),
                                                            self.runtime.log))
        number = held.number  # each proxy reaches only its own class's methods
        session.vctx_proxy, session.accept_proxy = sandbox.make_two(
            bindings.vctx, number, bindings.accept, number)
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
                # weakref.proxy hands back the object's existing proxy: no new object
                msg.next_phase(None if inbound is None else _proxy(inbound), recipient, phase)
                return msg, proxy
        msg = LiveMessage(session.weak_vctx, _weak(inbound), recipient, phase=phase)
        held = _Held(self.runtime.sandbox, msg)
        proxy = self.bindings.msg(held.number)
        # vctx.mess is replaced by reset_message: a second key for "the same message"
        vctx.message_state[_MESSAGE_KEY] = (session, vctx.mess, msg, proxy, inbound, held)
        return msg, proxy


# Per phase: (message_of, session, vctx, hook args, phase) -> (msg or None, Lua arguments
# after the module table); message_of is PhaseCaller._message.
def _data_args(message_of: Any, session: _Session, vctx: Any, args: tuple, phase: str) -> tuple:
    msg, proxy = message_of(session, vctx, args[0], None, phase)
    return msg, (proxy, session.accept_proxy, session.vctx_proxy)


def _each_rcpt_args(message_of: Any, session: _Session, vctx: Any, args: tuple,
                    phase: str) -> tuple:
    msg, proxy = message_of(session, vctx, args[0], args[1], phase)
    return msg, (proxy, session.accept_proxy, session.vctx_proxy)


def _set_binding_args(message_of: Any, session: _Session, vctx: Any, args: tuple,
                      phase: str) -> tuple:
    msg, proxy = message_of(session, vctx, args[0], None, phase)
    return msg, (proxy,)


def _connect_args(message_of: Any, session: _Session, vctx: Any, args: tuple, phase: str) -> tuple:
    return None, (session.accept_proxy, session.vctx_proxy)


def _rcptto_args(message_of: Any, session: _Session, vctx: Any, args: tuple, phase: str) -> tuple:
    msg, proxy = message_of(session, vctx, None, args[1] if len(args) > 1 else None, phase)
    command = args[0]
    wire = (command.encode("utf-8", "surrogateescape") if type(command) is str
            else _wire(command))
    return msg, (proxy, wire, session.accept_proxy, session.vctx_proxy)


def _rcptto_list_args(message_of: Any, session: _Session, vctx: Any, args: tuple,
                      phase: str) -> tuple:  # before DATA: the envelope only, every recipient
    msg, proxy = message_of(session, vctx, None, None, phase)
    return msg, (proxy, session.accept_proxy, session.vctx_proxy)


def _string_args(message_of: Any, session: _Session, vctx: Any, args: tuple, phase: str) -> tuple:
    """ehlo, mailfrom (and any phase whose argument is an SMTP command string)."""
    command = args[0] if args else ""
    wire = (command.encode("utf-8", "surrogateescape") if type(command) is str
            else _wire(command))
    return None, (wire, session.accept_proxy, session.vctx_proxy)


_ARGUMENTS = {"data": _data_args, "data_spool": _data_args,
              "data_spool_each_rcpt": _each_rcpt_args, "set_binding": _set_binding_args,
              "connect": _connect_args, "rcptto": _rcptto_args,
              "rcptto_list": _rcptto_list_args}


def _weak(inbound: Any) -> Any:
    """The msg's view of the session's message: weak, so a msg a script keeps (or Lua's
    collector has not reached yet) never keeps a finished message's bytes alive."""
    return None if inbound is None else weakref.proxy(inbound)


def _wire(text: Any) -> bytes:
    """An SMTP command string as Lua gets it (bytes; undecodable bytes kept)."""
    return str(text).encode("utf-8", "surrogateescape")
