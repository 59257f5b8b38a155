"""The adapter between Lua proxies (vctx, msg, ac) and the Python objects behind them.

Together with bindings_real.py, the one place that knows the Python side's method
names. Here: the method tables (``_Methods``) and OfflineVctx / OfflineMessage /
OfflineAccept, used by the offline tester and the tests. bindings_real.py extends
the tables (``LiveMethods``) for the daemon's live objects: the real
ValidationContext, the SMTP session's InboundMessage seen through core.message,
MIME parts and the streaming PCRE forms.

Lua sees: ``vctx:get(type, key)``, ``vctx:set(type, key, value)``,
``vctx:set_code(code, text)``, ``vctx:disconnect(code, text)``, ``vctx:tarpit(s)``,
``vctx:recipient_list([new_array])``, ``vctx:add_recipient(addr)``, ``vctx:remove_recipient(addr)``;
``msg:header(name [, value [, mode]])`` (get -> array; value "" deletes -> boolean;
mode "append" (default) | "prepend" | "replace"), ``msg:mailfrom([new])``,
``msg:rcptto([new])``, ``msg:body()``, ``msg:raw()``, ``msg:get_message_size()``,
``msg:context_get(type, key)``, ``msg:context_set(type, key, value)``, ``msg:code([n, text])``,
``msg:discard([reason])``, ``msg:id()``; ``ac:esmtp_capability_add(s)``,
``ac:esmtp_capability_remove(s)``, ``ac:inbound_session_count()``.
Never does I/O (tarpit sleeps the calling greenlet only).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import gevent

from ...core.encodings import decode_header_words
from . import fast_paths
from .fast_paths import fast_path_for
from .runtime import LuaRuntime


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def weak(runtime: Any) -> Any:
    """A weak proxy to the runtime (the same proxy when given one)."""
    return runtime if isinstance(runtime, weakref.ProxyTypes) else weakref.proxy(runtime)


_STACK_SAFE = 200  # values returned through Lua's stack at most (PY_LIST)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


@dataclass
class OfflineVctx:
    """A validation context with the surface of policy.vctx.ValidationContext."""

    conn: dict = field(default_factory=dict)
    mess: dict = field(default_factory=dict)
    code: tuple[int, str] | None = None
    disconnect_reply: tuple[int, str] | None = None
    recipients: list = field(default_factory=list)
    tarpitted_seconds: float = 0.0

    def get(self, which: str, key: str, default: str | None = None) -> str | None:
        return self._dict(which).get(key, default)

    def set(self, which: str, key: str, value: Any) -> None:
        self._dict(which)[key] = "" if value is None else str(value)

    def _dict(self, which: str) -> dict:
        if which not in ("conn", "mess"):
            raise ValueError(f"vctx type must be VCTX_CONN or VCTX_MESS, not {which!r}")
        return self.conn if which == "conn" else self.mess

    def set_code(self, code: int, text: str) -> None:
        self.code = (int(code), text)

    def disconnect(self, code: int = 421, text: str = "4.7.0 closing connection") -> None:
        self.disconnect_reply = (int(code), text)

    def tarpit(self, seconds: float) -> None:
        self.tarpitted_seconds += max(0.0, float(seconds))
        gevent.sleep(max(0.0, float(seconds)))

    def recipient_list(self) -> list:
        return list(self.recipients)

    def add_recipient(self, recipient: Any) -> None:
        self.recipients.append(recipient)

    def set_recipients(self, addresses: list[str]) -> None:
        self.recipients = list(addresses)

    def remove_recipient(self, address: str) -> bool:
        before = len(self.recipients)
        self.recipients = [r for r in self.recipients if r != address]
        return len(self.recipients) != before


class OfflineMessage:
    """A message over raw RFC 5322 bytes plus its envelope; edits are applied in place."""

    def __init__(self, raw: bytes, *, mailfrom: str = "", rcptto: str = "",
                 vctx: OfflineVctx | None = None, message_id: str = "00/00-00000-00000000") -> None:
        head, separator, body = raw.partition(b"\r\n\r\n")
        if not separator:
            head, separator, body = raw.partition(b"\n\n")
        self.eol = b"\n" if separator == b"\n\n" else b"\r\n"
        self.headers: list[tuple[str, bytes]] = []
        for line in head.split(self.eol) if head else []:
            if line[:1] in (b" ", b"\t") and self.headers:
                name, value = self.headers[-1]
                self.headers[-1] = (name, value + self.eol + line)
            elif b":" in line:
                name, _, value = line.partition(b":")
                self.headers.append((name.decode("ascii", "replace"), value.lstrip(b" \t")))
        self._body = body
        self._mailfrom, self._rcptto = mailfrom, rcptto
        self.vctx = vctx if vctx is not None else OfflineVctx()
        self.message_id = message_id
        self.code: tuple[int, str] | None = None
        self.discarded: str | None = None

    def header(self, name: str) -> list[str]:
        values = []
        for header_name, raw_value in self.headers:
            if header_name.lower() == name.lower():
                unfolded = raw_value.replace(b"\r\n", b"").replace(b"\n", b"")
                # RFC 2047 as the daemon decodes it (core.headers / live_message.py)
                values.append(decode_header_words(unfolded.decode("utf-8", "replace")))
        return values

    def header_delete(self, name: str) -> bool:
        before = len(self.headers)
        self.headers = [h for h in self.headers if h[0].lower() != name.lower()]
        return len(self.headers) != before

    def header_add(self, name: str, value: str, mode: str = "append") -> None:
        if mode not in ("append", "prepend", "replace"):
            raise ValueError(f"header mode must be append, prepend or replace, not {mode!r}")
        if mode == "replace":
            self.header_delete(name)
        entry = (name, _bytes(value))
        if mode == "prepend":
            self.headers.insert(0, entry)
        else:
            self.headers.append(entry)

    def mailfrom(self, new: str | None = None) -> str:
        if new is not None:
            self._mailfrom = new
        return self._mailfrom

    def rcptto(self, new: str | None = None) -> str:
        if new is not None:
            self._rcptto = new
        return self._rcptto

    def body(self) -> bytes:
        return self._body

    def raw(self) -> bytes:
        head = b"".join(name.encode() + b": " + value + self.eol for name, value in self.headers)
        return head + self.eol + self._body

    def size(self) -> int:
        return len(self.raw())


@dataclass
class OfflineAccept:
    """The accept construct (``ac``): EHLO capabilities and session counts."""

    capabilities: list = field(default_factory=list)
    session_count: int = 1


class LuaBindings:
    """Builds the Lua proxies for one runtime: ``vctx(obj)``, ``msg(obj)``, ``accept(obj)``
    each return a Lua proxy table for the Python object. ``methods`` is the Python side
    (``_Methods`` here; bindings_real.LiveMethods for the daemon's live objects)."""

    def __init__(self, runtime: LuaRuntime, methods: Any = None) -> None:
        # held by Lua: no strong ref back to the runtime
        methods = methods if methods is not None else _Methods(weak(runtime))
        make = runtime.sandbox.make_class
        self.vctx = make(b"validate_context", runtime.table(methods.vctx_table()))
        msg_methods = methods.msg_table()
        # msg.id() works as well as msg:id() (Momentum documents both spellings)
        dual = {name: True for name in ("id", "conn_id", "batch_id") if name in msg_methods}
        self.msg = make(b"ec_message", runtime.table(msg_methods), None, runtime.table(dual))
        self.accept = make(b"accept_construct", runtime.table(methods.accept_table()))


class _Methods:
    """The Python side of the proxies' methods (first argument: the Python object)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def vctx_table(self) -> dict[str, Any]:
        return {"get": self._vctx_get, "set": self._vctx_set, "set_code": self._set_code,
                "disconnect": self._disconnect, "tarpit": self._tarpit,
                "recipient_list": self._recipient_list, "add_recipient": self._add_recipient,
                "remove_recipient": self._remove_recipient}

    def msg_table(self) -> dict[str, Any]:
        return {"header": self._header, "mailfrom": self._mailfrom, "rcptto": self._rcptto,
                "body": self._body, "raw": self._raw, "get_message_size": self._size,
                "context_get": self._context_get, "context_set": self._context_set,
                "code": self._msg_code, "discard": self._discard, "id": self._msg_id,
                # offline: the default delivery_method; no multi-channel messages here
                "get_delivery_method": lambda msg: b"esmtp", "is_mcmt": lambda msg: False}

    def accept_table(self) -> dict[str, Any]:
        return {"esmtp_capability_add": self._cap_add,
                "esmtp_capability_remove": self._cap_remove,
                "inbound_session_count": self._session_count}

    def _session_count(self, ac: Any) -> int:
        return int(ac.session_count)

    # vctx -------------------------------------------------------------------------------
    def _vctx_get(self, vctx: Any, which: bytes, key: bytes) -> Any:
        value = vctx.get(_text(which), _text(key))
        return None if value is None else _bytes(value)

    def _vctx_set(self, vctx: Any, which: bytes, key: bytes, value: Any = None) -> None:
        vctx.set(_text(which), _text(key), None if value is None else _text(value))

    def _set_code(self, vctx: Any, code: Any, text: bytes = b"") -> None:
        vctx.set_code(int(code), _text(text))

    def _disconnect(self, vctx: Any, code: Any = 421, text: bytes = b"4.7.0 closing") -> None:
        vctx.disconnect(int(code), _text(text))

    def _tarpit(self, vctx: Any, seconds: Any) -> None:
        vctx.tarpit(float(seconds))

    def _recipient_list(self, vctx: Any, replacement: Any = None) -> Any:
        """``vctx:recipient_list()`` reads; ``vctx:recipient_list({a, b})`` replaces the list."""
        if replacement is not None:
            found = self.runtime.from_lua(replacement)
            if not isinstance(found, list):
                raise TypeError("vctx:recipient_list(list): expected an array of addresses")
            vctx.set_recipients([_text(address) for address in found])
        return self.runtime.to_lua([str(getattr(r, "address", r)) for r in vctx.recipient_list()])

    def _add_recipient(self, vctx: Any, address: bytes) -> None:
        vctx.add_recipient(_text(address))

    def _remove_recipient(self, vctx: Any, address: bytes) -> bool:
        return bool(vctx.remove_recipient(_text(address)))

    # msg --------------------------------------------------------------------------------
    def _header(self, msg: Any, name: bytes, value: Any = None, mode: Any = None) -> Any:
        if value is None:
            values = msg.header(_text(name))
            if len(values) > _STACK_SAFE:  # too many for Lua's stack: a table from Python
                return self.runtime.to_lua(values)
            # an array of the values, built on the Lua side (sandbox.lua PY_LIST); one
            # value or none, the common cases, without a comprehension's frame
            if len(values) == 1:
                return self.runtime.sandbox.PY_LIST, _bytes(values[0])
            return (self.runtime.sandbox.PY_LIST, *[_bytes(one) for one in values])
        if value == b"":
            return msg.header_delete(_text(name))
        mode_text = _text(mode) if mode is not None else "append"
        if type(value) is bytes:  # the common case: one string value
            values: Any = (value,)
        else:
            values = value.values() if self.runtime.sandbox.lua_type(value) == "table" else [value]
        name_text = _text(name)
        for one in values:
            msg.header_add(name_text, _text(one), mode_text)
            if mode_text == "replace":
                mode_text = "append"
        return True

    fast_path_for(_header, fast_paths.msg_header)

    def _mailfrom(self, msg: Any, new: Any = None) -> bytes:
        return _bytes(msg.mailfrom(None if new is None else _text(new)))

    def _rcptto(self, msg: Any, new: Any = None) -> bytes:
        return _bytes(msg.rcptto(None if new is None else _text(new)))

    def _body(self, msg: Any) -> bytes:
        return msg.body()

    def _raw(self, msg: Any) -> bytes:
        return msg.raw()

    def _size(self, msg: Any) -> int:
        return msg.size()

    def _context_get(self, msg: Any, which: bytes, key: bytes) -> bytes:
        return _bytes(msg.vctx.get(_text(which), _text(key)) or "")

    def _context_set(self, msg: Any, which: bytes, key: bytes, value: Any = None) -> None:
        msg.vctx.set(_text(which), _text(key), None if value is None else _text(value))

    def _msg_code(self, msg: Any, code: Any = None, text: Any = None) -> Any:
        if code is not None:
            msg.code = (int(code), _text(text or b""))
        return (msg.code[0], _bytes(msg.code[1])) if msg.code else None

    def _discard(self, msg: Any, reason: Any = None) -> bool:
        text = _text(reason) if reason else "550 5.7.0 discarded by policy"
        if not text[:3].isdigit():
            text = "550 5.7.1 [internal] discarded by policy"
        msg.discarded = text
        return True

    def _msg_id(self, msg: Any) -> bytes:
        return _bytes(msg.message_id)

    # ac ---------------------------------------------------------------------------------
    def _cap_add(self, ac: Any, capability: bytes) -> None:
        ac.capabilities.append(_text(capability))

    def _cap_remove(self, ac: Any, capability: bytes) -> bool:
        text = _text(capability).upper()
        before = len(ac.capabilities)
        ac.capabilities[:] = [c for c in ac.capabilities if c.upper().split()[0] != text.split()[0]]
        return len(ac.capabilities) != before
