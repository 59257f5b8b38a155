"""New messages from Lua: msys.core.ec_message_new, msys.core.string_new, and the injector.

Installed by libraries.py; ``inject_bytes`` is also what msg:inject / msg:forward
(bindings_compose.py) and msys.rfc3464.send_mdn call.
  msys.core.ec_message_new([now]) -> an empty ec_message to fill with msg:build
  msys.core.string_new([text]) -> an ec_string buffer (msg:get_envelope2 fills it;
      tostring(buf) or buf.value reads it)
Injection: ``runtime.injector(envelope, data) -> id`` when set (the offline tester),
else the daemon's spool and queue (``runtime.app``, set by modules/scriptlet.py):
``app.spool.store`` (returns once durable) then ``app.queue_manager.admit``. Only the
calling greenlet waits for the spool; never the hub. Without either, injection is
an error the script can pcall.
"""
from __future__ import annotations

import time
from typing import Any

from ...core.envelope import Envelope, Recipient

_STRING_CLASS = """
local setmetatable, tostring = ...
local mt = { __metatable = "ec_string",
             __tostring = function(s) return s.value end,
             __concat = function(a, b) return tostring(a) .. tostring(b) end,
             __len = function(s) return #s.value end }
return function(text) return setmetatable({ value = text or "" }, mt) end
"""


def inject_bytes(runtime: Any, data: bytes, mailfrom: str, rcpts: list[str], *,
                 origin: Any = None) -> str:
    """Spool and queue one new message; returns its batch id."""
    if not rcpts:
        raise ValueError("inject: no recipients")
    if not data.endswith(b"\n"):
        data += b"\r\n"
    peer = getattr(origin, "peer", ("", 0)) if origin is not None else ("", 0)
    envelope = Envelope(mail_from=mailfrom, recipients=[Recipient(r) for r in rcpts],
                        protocol="lua", peer_ip=peer[0] or "127.0.0.1", received_at=time.time())
    injector = getattr(runtime, "injector", None)
    if injector is not None:
        return str(injector(envelope, data))
    app = getattr(runtime, "app", None)
    spool = getattr(app, "spool", None)
    if spool is None:
        raise RuntimeError("injection needs the running daemon (its spool and queue)")
    batch = spool.store(envelope, data)
    queue = getattr(app, "queue_manager", None)
    if queue is not None:
        queue.admit(batch)
    runtime.log(f"injected {batch.batch_id} from <{mailfrom}> to {len(rcpts)} recipient(s)")
    return batch.batch_id


def bindings_of(runtime: Any) -> Any:
    """The runtime's live proxy factory (one per runtime)."""
    found = runtime.__dict__.get("_live_bindings")
    if found is None:
        from .bindings_real import LiveBindings
        found = runtime.__dict__["_live_bindings"] = LiveBindings(runtime)
    return found


def ec_message_new(runtime: Any, now: Any = None) -> Any:
    from ...policy.vctx import ValidationContext
    from ...smtp.accept import InboundMessage
    from ...smtp.headers import split_message
    from .bindings_real import LiveMessage
    spool = getattr(getattr(runtime, "app", None), "spool", None)
    message_id = spool.idgen.next_id() if spool is not None else ""
    inbound = InboundMessage(Envelope(mail_from="", recipients=[]), message_id,
                             split_message(b""))
    return bindings_of(runtime).msg(LiveMessage(ValidationContext(), inbound, phase="new"))


def string_new(runtime: Any, text: Any = None) -> Any:
    maker = runtime.__dict__.get("_string_new")
    if maker is None:
        lua = runtime.sandbox.lua
        chunk = lua.execute(_STRING_CLASS, lua.globals()[b"setmetatable"],
                            lua.globals()[b"tostring"])
        maker = runtime.__dict__["_string_new"] = chunk
    return maker(b"" if text is None else bytes(text) if isinstance(text, bytes)
                 else str(text).encode())


FUNCTIONS = {"msys.core.ec_message_new": ec_message_new, "msys.core.string_new": string_new}
