"""``LiveMessage``: what Lua's ``msg`` stands for in the daemon, over the session's message.

Made by live_calls.py (one per message, from rcptto to set_binding; ``next_phase``
readies it for each call) and by lib_inject.py (msys.core.ec_message_new); its
methods are reached through bindings_real.LiveMethods. ``inbound`` is the SMTP
session's smtp.accept.InboundMessage (None before DATA: then only the envelope).

Edits change the message at once (later reads in the same call see them) and
``commit()`` -- the caller runs it after every call -- writes them back into the
InboundMessage, so they are what gets spooled. The cheap common case never parses
the whole message: header reads scan the header block (the same field splitting,
unfolding and RFC 2047 decoding as core.headers, so the values are identical) and
appended headers are kept as ready-made fields until commit appends their bytes to
the header block. Plain appends made by a hook call reach this object as lines Lua
recorded (sandbox.lua defer_appends; ``absorb`` or the call's yield): applied as
header_add calls before any read or edit, or written straight into the header block
by commit, so the result is the per-call path's byte for byte. Anything else (delete, replace, body, raw, MIME, *_replace) works
on the core.message.Message model, parsed once and shared by the phases of the
message while the session has not changed its bytes. Never does I/O.
"""
from __future__ import annotations

from typing import Any

from ..._speedups.mimescan import split_headers, unfold
from ...core.encodings import decode_header_words
from ...core.headers import HeaderField, Headers
from ...core.message import Message

EACH_RCPT_PHASES = ("data_spool_each_rcpt", "set_binding")


class LiveMessage:
    """``msg`` for the phase calls of one message. ``recipient`` is the phase's
    Recipient (rcptto, each_rcpt); ``code`` / ``discarded`` what the call asked for."""

    def __init__(self, vctx: Any, inbound: Any = None, recipient: Any = None, *,
                 phase: str = "") -> None:
        self.vctx = vctx
        self.inbound = inbound
        self.recipient = recipient
        self.phase = phase
        self.code: tuple[int, str] | None = None
        self.discarded: str | None = None
        self._model: Message | None = None
        # (field, value) appended before any model was needed
        self._appended: list[tuple[HeaderField, str]] = []
        # header appends Lua recorded (sandbox.lua flush_pending): chunks of
        # b"name: value" lines joined by b"\n", not yet applied
        self._lua_lines: list[bytes] = []

    def next_phase(self, inbound: Any, recipient: Any, phase: str) -> None:
        """Ready this msg for the next phase call of the SAME message: the phase, its
        recipient, the InboundMessage once DATA is in; the model is looked up again
        (the session may have changed the bytes in between: trace, identity headers)."""
        self.inbound = inbound
        self.recipient = recipient
        self.phase = phase
        self.code = None
        self.discarded = None
        self._model = None
        if self._appended:
            self._appended = []
        if self._lua_lines:
            self._lua_lines = []

    # -- identity ------------------------------------------------------------------------
    @property
    def message_id(self) -> str:
        return getattr(self.inbound, "id", "") or ""

    @property
    def conn_id(self) -> str:
        envelope = getattr(self.inbound, "envelope", None)
        return getattr(envelope, "conn_id", "") or ""

    @property
    def peer(self) -> tuple[str, int]:
        envelope = getattr(self.inbound, "envelope", None)
        return (getattr(envelope, "peer_ip", "") or "", getattr(envelope, "peer_port", 0) or 0)

    # -- the model -----------------------------------------------------------------------
    def model(self) -> Message:
        """The parsed message (headers appended so far included)."""
        if self._lua_lines:
            self._drain()
        if self._model is None:
            self._model = self._shared_model()
            if self._appended:
                headers = self._model.headers
                for field, value in self._appended:
                    headers.append(field.name, value)
                self._appended = []
        return self._model

    def _shared_model(self) -> Message:
        """The parsed message, shared by the phases of one message while the session
        has not changed its bytes (the cache holds the very parts it was built from)."""
        inbound = self.inbound
        if inbound is None:
            return Message(b"")
        parts = (inbound.trace, inbound.header_block, inbound.separator, inbound.body)
        cached = inbound.__dict__.get("_lua_model")
        if cached is not None and all(a is b for a, b in zip(cached[0], parts, strict=True)) \
                and not cached[1].modified:
            return cached[1]
        model = Message(inbound.data())
        inbound.__dict__["_lua_model"] = (parts, model)
        return model

    def _editable(self) -> Message:
        if self.inbound is None:
            raise RuntimeError("the message content is not available before the data phase")
        return self.model()

    def _scannable(self) -> bool:
        """True when headers can be read and appended without the model: none was built
        and the header block is complete (ends its last line, then an empty line)."""
        inbound = self.inbound
        return (self._model is None and inbound is not None and bool(inbound.separator)
                and inbound.header_block.endswith(b"\n"))

    # -- headers -------------------------------------------------------------------------
    def header(self, name: str) -> list[str]:
        """Every value of ``name``, unfolded and RFC 2047-decoded (core.headers rules)."""
        if self.inbound is None:
            return []
        if self._lua_lines:
            self._drain()
        if not self._scannable():
            return self.model().header(name)
        inbound = self.inbound
        values = header_values(inbound.trace + inbound.header_block + inbound.separator, name)
        if self._appended:
            key = name.lower()
            values += [field.value() for field, _value in self._appended if field.key == key]
        return values

    def header_delete(self, name: str) -> bool:
        return self._editable().headers.delete(name) > 0

    def header_add(self, name: str, value: str, mode: str = "append") -> None:
        if self._lua_lines:
            self._drain()
        self._add(name, value, mode)

    def _add(self, name: str, value: str, mode: str) -> None:
        if mode == "append" and self._scannable():
            head = self.inbound.trace or self.inbound.header_block
            # make_field validates the name and RFC 2047-encodes like Headers.append
            self._appended.append((_FIELD_MAKERS[_eol_of(head)].make_field(name, value), value))
            return
        headers = self._editable().headers
        if mode == "append":
            headers.append(name, value)
        elif mode == "prepend":
            headers.prepend(name, value)
        elif mode == "replace":
            headers.replace(name, value)
        else:
            raise ValueError(f"header mode must be append, prepend or replace, not {mode!r}")

    # -- body and whole message ----------------------------------------------------------
    def body(self) -> bytes:
        return self.model().raw_body()

    def set_body(self, raw: bytes) -> None:
        self._editable().set_raw_body(raw)

    def raw(self) -> bytes:
        return self.model().render()

    def set_raw(self, raw: bytes) -> None:
        self._editable().replace_raw(raw)

    def size(self) -> int:
        return len(self.raw()) if self.inbound is not None else 0

    # -- header appends recorded in Lua ------------------------------------------------
    def absorb(self, lines: bytes) -> None:
        """Header appends Lua recorded (sandbox.lua): b"name: value" lines joined by
        b"\n", each one a valid field name and a plain ASCII value without CR, LF or
        "=?" (core.headers make_field writes such a value as is). Applied as header_add
        calls, in order, before anything reads or edits the message."""
        self._lua_lines.append(lines)

    def _drain(self) -> None:
        chunks, self._lua_lines = self._lua_lines, []
        for chunk in chunks:
            for line in chunk.split(b"\n"):
                name, _, value = line.partition(b": ")
                self._add(name.decode("ascii"), value.decode("ascii"), "append")

    def commit(self) -> bool:
        """Write the edits back into the InboundMessage; True when there were any."""
        inbound = self.inbound
        if inbound is None:
            return False
        if self._lua_lines:
            if self._model is None and not self._appended and self._scannable():
                # only appends Lua recorded: the bytes make_field gives them
                eol = _eol_of(inbound.trace or inbound.header_block)
                chunks, self._lua_lines = self._lua_lines, []
                lines = chunks[0] if len(chunks) == 1 else b"\n".join(chunks)
                inbound.header_block += lines.replace(b"\n", eol) + eol
                return True
            self._drain()
        if self._model is None:
            if not self._appended:
                return False
            appended = self._appended
            inbound.header_block += (appended[0][0].raw if len(appended) == 1 else
                                     b"".join([field.raw for field, _value in appended]))
            self._appended = []
            return True
        if not self._model.modified:
            return False
        header_block, separator, body = _split_rendered(self._model)
        inbound.trace = b""  # the Received: line is now part of the header block
        inbound.header_block = header_block
        inbound.separator = separator
        inbound.body = body
        inbound.__dict__.pop("_lua_model", None)
        self._model = None
        return True

    # -- envelope ------------------------------------------------------------------------
    def mailfrom(self, new: str | None = None) -> str:
        envelope = getattr(self.inbound, "envelope", None)
        if new is not None:
            if envelope is None:
                raise RuntimeError("msg:mailfrom can set the sender from the data phase on")
            envelope.mail_from = new
        if envelope is not None:
            return envelope.mail_from
        local = self.vctx.get("mess", "mailfrom_localpart") or ""
        domain = self.vctx.get("mess", "mailfrom_domain") or ""
        return f"{local}@{domain}" if domain else local

    def _recipient(self) -> Any:
        if self.recipient is not None:
            return self.recipient
        recipients = self.vctx.recipient_list()
        return recipients[0] if recipients else None

    def rcptto(self, new: str | None = None) -> str:
        recipient = self._recipient()
        if new is not None:
            if self.phase not in EACH_RCPT_PHASES or recipient is None:
                raise RuntimeError("msg:rcptto can be modified only in "
                                   "validate_data_spool_each_rcpt or later")
            recipient.address = new
        return getattr(recipient, "address", "") if recipient is not None else ""


# make_field only reads the eol: one empty Headers per line end makes the appended fields
_FIELD_MAKERS = {b"\r\n": Headers(eol=b"\r\n"), b"\n": Headers(eol=b"\n")}


def header_values(head: bytes, name: str) -> list[str]:
    """The values of ``name`` in a header block (ending with its empty line), exactly as
    core.headers.Headers.get_all gives them, without building a HeaderField per field."""
    spans, _body_start, _separated = split_headers(head, 0, len(head))
    key = name.lower()
    size = len(key)
    values = []
    for start, colon, end in spans:
        if colon - start == size and head[start:colon].decode("latin-1").lower() == key:
            values.append(decode_header_words(
                unfold(head[colon + 1:end]).decode("utf-8", errors="replace")))
    return values


def _eol_of(head: bytes) -> bytes:
    """The line end core.headers would pick for this header block: its first field's
    (the end of that field's last line, folded lines included)."""
    end = head.find(b"\n")
    while end >= 0 and head[end + 1:end + 2] in (b" ", b"\t"):
        end = head.find(b"\n", end + 1)
    if end > 0 and head[end - 1:end] != b"\r":
        return b"\n"
    return b"\r\n"


def _split_rendered(model: Message) -> tuple[bytes, bytes, bytes]:
    """(header block, empty line, body) of the model as rendered now: the header block
    is the model's own, so no rescan of the lines (smtp.headers.split_message) is needed
    unless the rendered bytes do not start with it followed by an empty line."""
    rendered = model.render()
    block = model.headers.render()
    if block.endswith(b"\n") and rendered.startswith(block):
        for separator in (b"\r\n", b"\n"):
            if rendered.startswith(separator, len(block)):
                return block, separator, rendered[len(block) + len(separator):]
    from ...smtp.headers import split_message
    parts = split_message(rendered)
    return parts.header_block, parts.separator, parts.body
