"""Lua proxies over the daemon's live objects: the real vctx, the SMTP message, MIME parts.

Called by modules/scriptlet.py for every validation-phase call into Lua (and by the
tests). ``LiveVctx`` adapts policy.vctx.ValidationContext (recipients become
core.envelope.Recipient); ``LiveAccept`` is ``ac`` (EHLO capability edits, inbound
session count); ``msg`` is live_message.LiveMessage (re-exported here): the session's
InboundMessage (data phases), or just the envelope before DATA. Edits made through
``msg`` (headers, body, raw, text, MIME parts, *_replace) are seen at once by later
reads and ``commit()`` writes them back into the InboundMessage before the session
goes on, so they are what gets spooled.

Lua sees, beyond bindings.py's tables: ``msg:body([new])``, ``msg:raw([new])``,
``msg:text([new])``, ``msg:mime()`` (an ``ec_msgpart``), ``msg:raw_match(re [, flags])``,
``msg:body_match``, ``msg:text_match`` (the match text then its captures, or nil;
flags are msys.pcre's letters i m s x), ``msg:raw_replace(re, repl [, flags])``, ``msg:body_replace``, ``msg:text_replace``
(-> number replaced), ``msg:context_exists/context_delete``, ``msg:conn_id()``,
``msg:batch_id()``, ``msg:binding([name])``, ``msg:binding_group([name])``,
``msg:reception_peer([ip|port|all])``; ``msgpart:header(name [, value [, mode]])``,
``msgpart:content_type()``, ``msgpart:children()``, ``msgpart:parent()``,
``msgpart:body()``, ``msgpart:raw()``, ``msgpart:text([new])``, ``msgpart:*_match``,
``msgpart:*_replace``, ``msgpart:unlink()``, ``msgpart:addFirstChild(p)``,
``msgpart:addLastChild(p)``, ``msgpart:insertBefore(p)``, ``msgpart:insertAfter(p)``.
Never does I/O and never blocks the hub (tarpit sleeps the session's greenlet only).
"""
from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable

from ...core import pcre_stream
from ...core.envelope import Recipient
from ...core.mime import Part
from .bindings import LuaBindings, _bytes, _Methods, _text, weak
from . import fast_paths
from .bindings_compose import ComposeMethods
from .fast_paths import fast_path_for
from .live_message import LiveMessage



class LiveVctx:
    """``vctx`` over the real ValidationContext; recipients added from Lua become Recipients."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def get(self, which: str, key: str, default: str | None = None) -> str | None:
        return self.real.get(which, key, default)

    def set(self, which: str, key: str, value: Any) -> None:
        self.real.set(which, key, value)

    def set_code(self, code: int, text: str) -> None:
        self.real.set_code(code, text)

    def disconnect(self, code: int = 421, text: str = "4.7.0 closing connection") -> None:
        self.real.disconnect(code, text)

    def tarpit(self, seconds: float) -> None:
        self.real.tarpit(seconds)

    def recipient_list(self) -> list[Any]:
        return self.real.recipient_list()

    def add_recipient(self, address: str) -> None:
        self.real.add_recipient(Recipient(address))

    def set_recipients(self, addresses: list[str]) -> None:
        """Replace the list; recipients kept by address keep their NOTIFY/ORCPT."""
        known = {r.address: r for r in self.real.recipient_list()}
        self.real.recipients = [known.get(a) or Recipient(a) for a in addresses]

    def remove_recipient(self, address: str) -> bool:
        return self.real.remove_recipient(address)


class LiveAccept:
    """``ac``: EHLO capability edits go to ``vctx.capability_edits``, the list the
    session builds its EHLO reply from; ``session_count`` is a callable."""

    def __init__(self, vctx: Any, session_count: Callable[[], int] = lambda: 0,
                 log: Callable[[str], None] = lambda text: None) -> None:
        self.vctx = vctx
        self.session_count = session_count
        self.log = log

    def edit(self, action: str, capability: str) -> bool:
        self.vctx.capability_edits.append((action, capability))
        return True


_part_ids = itertools.count(1)


def _flags(flags: Any) -> int:
    """PCRE flags as msys.pcre takes them: letters i m s x (or a PCRE2 option number)."""
    if not flags:
        return 0
    if isinstance(flags, (int, float)):
        return int(flags)
    from .lib_pcre import _FLAG_LETTERS
    options = 0
    for letter in _text(flags):
        if letter not in _FLAG_LETTERS:
            raise ValueError(f"unknown PCRE flag {letter!r} (use i, m, s, x)")
        options |= _FLAG_LETTERS[letter]
    return options


class LiveMethods(ComposeMethods, _Methods):
    """bindings.py's method tables, extended for LiveMessage and MIME parts
    (and bindings_compose.py's build/inject/address methods)."""

    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime)
        self._parts: "weakref.WeakValueDictionary[int, Part]" = weakref.WeakValueDictionary()
        self.part_proxy: Any = None  # set by LiveBindings

    def vctx_table(self) -> dict[str, Any]:
        table = super().vctx_table()
        table.update({"get": self._live_get, "set": self._live_set})
        return table

    def _live_get(self, vctx: LiveVctx, which: Any, key: Any) -> Any:
        """vctx:get straight from the real context's dicts (the hottest callback)."""
        real = vctx.real
        store = real.conn if which == b"conn" else real.mess if which == b"mess" else None
        if store is None:
            return self._vctx_get(vctx, which, key)  # its error names the bad type
        value = store.get(key.decode("utf-8", "surrogateescape") if type(key) is bytes
                          else _text(key))
        return None if value is None else _bytes(value)

    def _live_set(self, vctx: LiveVctx, which: Any, key: Any, value: Any = None) -> None:
        real = vctx.real
        store = real.conn if which == b"conn" else real.mess if which == b"mess" else None
        if store is None:
            self._vctx_set(vctx, which, key, value)  # its error names the bad type
            return
        store[_text(key)] = "" if value is None else _text(value)

    fast_path_for(_live_get, fast_paths.vctx_get)
    fast_path_for(_live_set, fast_paths.vctx_set)

    def msg_table(self) -> dict[str, Any]:
        table = super().msg_table()
        table.update({
            "body": self._msg_body, "raw": self._msg_raw, "text": self._msg_text,
            "mime": self._mime, "raw_match": self._matcher(pcre_stream.raw_match),
            "body_match": self._matcher(pcre_stream.body_match),
            "text_match": self._matcher(pcre_stream.text_match, text=True),
            "raw_replace": self._replacer(pcre_stream.raw_replace),
            "body_replace": self._replacer(pcre_stream.body_replace),
            "text_replace": self._replacer(pcre_stream.text_replace, text=True),
            "context_exists": self._context_exists, "context_delete": self._context_delete,
            "conn_id": lambda msg: _bytes(msg.conn_id), "batch_id": self._msg_id,
            "binding": self._binding, "binding_group": self._binding_group,
            "reception_peer": self._reception_peer})
        table.update(self.compose_table())
        return table

    def part_table(self) -> dict[str, Any]:
        return {
            "header": self._part_header, "content_type": self._content_type,
            "children": self._children, "parent": self._parent, "body": lambda p: p.body(),
            "raw": lambda p: p.render(), "text": self._part_text,
            "raw_match": self._matcher(pcre_stream.raw_match, part=True),
            "body_match": self._matcher(pcre_stream.body_match, part=True),
            "text_match": self._matcher(pcre_stream.text_match, text=True, part=True),
            "raw_replace": self._part_raw_replace,
            "address_header": self._address_header,
            "body_replace": self._replacer(pcre_stream.body_replace, part=True),
            "text_replace": self._replacer(pcre_stream.text_replace, text=True, part=True),
            "unlink": lambda p: p.unlink() or True,
            "addFirstChild": lambda p, c: p.add_first_child(self._unwrap(c)) or True,
            "addLastChild": lambda p, c: p.add_last_child(self._unwrap(c)) or True,
            "insertBefore": lambda p, s: p.insert_before(self._unwrap(s)) or True,
            "insertAfter": lambda p, s: p.insert_after(self._unwrap(s)) or True}

    def part_fields(self) -> dict[str, Any]:
        """``part.child`` (first child), ``part.next`` / ``part.prev`` (siblings)."""
        return {"child": lambda p: self._wrap(p.children[0]) if p.children else None,
                "next": lambda p: self._wrap(_sibling(p, 1)),
                "prev": lambda p: self._wrap(_sibling(p, -1))}

    def _part_raw_replace(self, part: Part, pattern: bytes, replacement: bytes,
                          flags: Any = 0) -> int:
        """Replace in the part as rendered; the part is swapped in its tree for the result
        (get it again through its parent)."""
        if part.parent is None:
            raise ValueError("msgpart:raw_replace on the top part: use msg:raw_replace")
        pieces, done = pcre_stream.stream_replace(
            [part.render()], pcre_stream.compile_pattern(_bytes(pattern), _flags(flags)),
            _bytes(replacement))
        if done:
            new = Part.from_bytes(b"".join(pieces))
            new.insert_after(part)
            part.unlink()
        return done

    def accept_table(self) -> dict[str, Any]:
        return {"esmtp_capability_add": lambda ac, cap: ac.edit("add", _text(cap)),
                "esmtp_capability_remove": lambda ac, cap: ac.edit("remove", _text(cap)),
                "inbound_session_count": lambda ac: int(ac.session_count())}

    # -- parts ---------------------------------------------------------------------------
    def _wrap(self, part: Part | None) -> Any:
        if part is None:
            return None
        proxy = self.part_proxy(part)
        part_id = next(_part_ids)
        self._parts[part_id] = part
        proxy[b"_part"] = part_id
        return proxy

    def _unwrap(self, proxy: Any) -> Part:
        part = self._parts.get(proxy[b"_part"]) if self.runtime.sandbox.lua_type(proxy) else None
        if part is None:
            raise TypeError("expected a msgpart (from msg:mime() or msgpart:children())")
        return part

    def _mime(self, msg: LiveMessage) -> Any:
        return self._wrap(msg._editable().mime())

    def _children(self, part: Part) -> Any:
        return self.runtime.table([self._wrap(child) for child in part.children])

    def _parent(self, part: Part) -> Any:
        return self._wrap(part.parent)

    def _content_type(self, part: Part) -> Any:
        info = {"type": part.maintype, "subtype": part.subtype, "value": part.content_type}
        info.update(part.params)
        return self.runtime.to_lua(info)

    def _part_header(self, part: Part, name: bytes, value: Any = None, mode: Any = None) -> Any:
        key = _text(name)
        if value is None:
            return self.runtime.to_lua(part.headers.get_all(key))
        if value == b"":
            return part.headers.delete(key) > 0
        mode_text = _text(mode) if mode is not None else "replace"
        action = {"replace": part.headers.replace, "append": part.headers.append,
                  "prepend": part.headers.prepend}.get(mode_text)
        if action is None:
            raise ValueError(f"header mode must be append, prepend or replace, not {mode_text!r}")
        action(key, _text(value))
        return True

    def _part_text(self, part: Part, new: Any = None) -> Any:
        if new is not None:
            part.set_text(_text(new))
            return True
        return part.text().encode("utf-8", "surrogateescape")

    # -- msg -----------------------------------------------------------------------------
    def _msg_body(self, msg: LiveMessage, new: Any = None) -> Any:
        if new is not None:
            msg.set_body(_bytes(new))
            return True
        return msg.body()

    def _msg_raw(self, msg: LiveMessage, new: Any = None) -> Any:
        if new is not None:
            msg.set_raw(_bytes(new))
            return True
        return msg.raw()

    def _msg_text(self, msg: LiveMessage, new: Any = None) -> Any:
        if new is not None:
            msg._editable().set_text(_text(new))
            return True
        return msg.model().text().encode("utf-8", "surrogateescape")

    def _matcher(self, search: Callable, *, text: bool = False, part: bool = False) -> Callable:
        def match(target: Any, pattern: bytes, flags: Any = 0) -> Any:
            subject = target if part else target.model()
            found = search(subject, _text(pattern) if text else _bytes(pattern), _flags(flags))
            if found is None:
                return None
            pieces = (found.text,) + tuple(found.groups)
            return tuple(_bytes(p) if p is not None else None for p in pieces)
        return match

    def _replacer(self, replace: Callable, *, text: bool = False, part: bool = False) -> Callable:
        def run(target: Any, pattern: bytes, replacement: bytes, flags: Any = 0) -> int:
            subject = target if part else target._editable()
            if text:
                return replace(subject, _text(pattern), _text(replacement), _flags(flags))
            return replace(subject, _bytes(pattern), _bytes(replacement), _flags(flags))
        return run

    def _context_exists(self, msg: LiveMessage, which: bytes, key: bytes) -> bool:
        return msg.vctx.get(_text(which), _text(key)) is not None

    def _context_delete(self, msg: LiveMessage, which: bytes, key: bytes) -> bool:
        store = msg.vctx.conn if _text(which) == "conn" else msg.vctx.mess
        return store.pop(_text(key), None) is not None

    def _binding(self, msg: LiveMessage, name: Any = None) -> Any:
        real = getattr(msg.vctx, "real", msg.vctx)
        if name is not None:
            real.set_binding(_text(name))
        return None if real.binding is None else _bytes(real.binding)

    def _binding_group(self, msg: LiveMessage, name: Any = None) -> Any:
        real = getattr(msg.vctx, "real", msg.vctx)
        if name is not None:
            real.set_binding_group(_text(name))
        return None if real.binding_group is None else _bytes(real.binding_group)

    def _reception_peer(self, msg: LiveMessage, which: Any = b"all") -> Any:
        ip, port = msg.peer
        which_text = _text(which or b"all")
        if which_text == "ip":
            return _bytes(ip)
        if which_text == "port":
            return int(port)
        return _bytes(f"{ip}:{port}")


def _sibling(part: Part, step: int) -> Part | None:
    if part.parent is None:
        return None
    siblings = part.parent.children
    index = next(i for i, p in enumerate(siblings) if p is part) + step
    return siblings[index] if 0 <= index < len(siblings) else None


class LiveBindings(LuaBindings):
    """LuaBindings with LiveMethods, plus ``part(obj)`` for ec_msgpart proxies."""

    def __init__(self, runtime: Any) -> None:
        methods = LiveMethods(weak(runtime))
        super().__init__(runtime, methods)
        self.part = runtime.sandbox.make_class(b"ec_msgpart", runtime.table(methods.part_table()),
                                               runtime.table(methods.part_fields()))
        methods.part_proxy = self.part
        self.methods = methods
        # plain msg:header appends on the msg a hook call may edit are recorded in Lua
        # (sandbox.lua defer_appends) and applied by LiveMessage.absorb / commit
        runtime.sandbox.defer_appends(b"ec_message")
