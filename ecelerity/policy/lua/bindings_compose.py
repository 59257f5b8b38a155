"""msg:* methods that compose, address or inject messages, for the live proxies.

Mixed into bindings_real.LiveMethods (called only through its method tables).
Lua sees:
  ``msys.core.ec_message_new([now])`` -> an empty message (lib_inject.py), then
  ``msg:build(headers, parts [, attachments])``: headers ``{Name = value}``; parts
      ``{["text/plain; charset=utf-8"] = text, ...}`` (one part: a single-part message,
      several: multipart/alternative); attachments ``{{type=, name=, content=,
      disposition=}}`` (then multipart/mixed, base64). Replaces the whole content.
  ``msg:inject(mailfrom, rcpt_or_array)`` -> the new batch id: the message goes through
      the spool and the queue like one received over SMTP (protocol "lua").
  ``msg:forward(rcpt_or_array [, mailfrom])`` -> batch id: a copy of the current
      message (as edited so far) to other recipients; the original is unchanged.
  ``msg:get_envelope2(EC_MSG_ENV_FROM|EC_MSG_ENV_TO, local_buf, domain_buf)`` fills two
      ``msys.core.string_new()`` buffers (tostring() them); returns true.
  ``msg:routing_domain([domain])`` (default: the recipient's domain; a set value is
      kept in the message context ``routing_domain``), ``msg:listener_addr([ip|port|all])``,
      ``msg:address_header(name [, component])`` and ``msgpart:address_header``:
      one table ``{name=, local_part=, domain=, address=}`` per address found in every
      instance of the header, or, with a component (name|local_part|domain|address),
      the array of that component. ``msg:context_exists_and_get(type, key)`` -> bool, value.
  ``msg:get_delivery_method()`` -> the ``delivery_method`` in force for the message's
      binding and routing domain, lower-case: "esmtp" (the default; our SMTP delivery),
      "smtp", "lmtp"... (Momentum's names). ``msg:is_mcmt()`` -> false: Momentum's
      multi-channel messages (one message for email, SMS and push) do not exist here,
      every message is an email message.
  ``msg:makeBoundary()``, ``msg:makePart(content_type, body [, headers])`` and
      ``msg:makeContainer(content_type [, headers])`` -> unlinked msgparts to insert
      with msgpart:addLastChild & co.
Never does I/O itself: injection goes through the runtime's injector (lib_inject.py).
"""
from __future__ import annotations

import base64
import uuid
from email.utils import getaddresses
from typing import Any

from ...core.mime import Part
from .bindings import _bytes, _text

ENV_FROM = 0  # msys.core.EC_MSG_ENV_FROM (lib_core.py)
DEFAULT_DELIVERY_METHOD = "ESMTP"  # the delivery_method option's default
ENV_TO = 1
_COMPONENTS = {"name": "name", "display": "name", "local_part": "local_part",
               "local": "local_part", "localpart": "local_part", "domain": "domain",
               "address": "address", "email": "address"}


def make_boundary() -> str:
    return f"=_ec_{uuid.uuid4().hex}"


def addresses_of(values: list[str]) -> list[dict[str, str]]:
    """RFC 2822 address lists -> one dict per address (groups flattened)."""
    found = []
    for name, address in getaddresses(values):
        if not address:
            continue
        local, at, domain = address.rpartition("@")
        if not at:
            local, domain = address, ""
        found.append({"name": name, "local_part": local, "domain": domain, "address": address})
    return found


def build_message(headers: dict[str, str], parts: list[tuple[str, bytes]],
                  attachments: list[dict[str, Any]]) -> bytes:
    """The bytes of a new message (CRLF line ends, MIME-Version set when needed)."""
    head = [f"{name}: {value}" for name, value in headers.items()]
    if not any(name.lower() == "mime-version" for name in headers):
        head.append("MIME-Version: 1.0")
    body_parts = [_leaf(ctype, body) for ctype, body in parts] or [_leaf("text/plain", b"")]
    if len(body_parts) == 1:
        content = body_parts[0]
    else:
        content = _container("multipart/alternative", body_parts)
    if attachments:
        content = _container("multipart/mixed", [content] + [_attachment(a) for a in attachments])
    return "\r\n".join(head).encode("utf-8") + b"\r\n" + content


def _leaf(content_type: str, body: bytes) -> bytes:
    eight_bit = any(byte > 127 for byte in body)
    cte = "8bit" if eight_bit else "7bit"
    text = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if text and not text.endswith(b"\r\n"):
        text += b"\r\n"
    return (f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
            .encode() + text)


def _container(content_type: str, children: list[bytes]) -> bytes:
    boundary = make_boundary()
    out = [f'Content-Type: {content_type}; boundary="{boundary}"\r\n\r\n'.encode()]
    for child in children:
        out.append(f"--{boundary}\r\n".encode() + child)
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _attachment(spec: dict[str, Any]) -> bytes:
    content = _bytes(spec.get("content", b""))
    ctype = _text(spec.get("type", "application/octet-stream"))
    name = _text(spec.get("name", "attachment.bin")).replace('"', "")
    disposition = _text(spec.get("disposition", "attachment"))
    encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
    return (f'Content-Type: {ctype}; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: {disposition}; filename="{name}"\r\n\r\n'.encode() + encoded)


class ComposeMethods:
    """The methods above; ``self.runtime`` and ``self._wrap`` come from LiveMethods."""

    runtime: Any

    def compose_table(self) -> dict[str, Any]:
        return {"build": self._build, "inject": self._inject, "forward": self._forward,
                "get_envelope2": self._get_envelope2, "routing_domain": self._routing_domain,
                "listener_addr": self._listener_addr, "address_header": self._address_header,
                "context_exists_and_get": self._context_exists_and_get,
                "get_delivery_method": self._delivery_method, "is_mcmt": lambda msg: False,
                "makeBoundary": lambda msg: make_boundary().encode(),
                "makePart": self._make_part, "makeContainer": self._make_container}

    # -- building and injecting -------------------------------------------------------
    def _build(self, msg: Any, headers: Any, parts: Any = None, attachments: Any = None) -> bool:
        from_lua = self.runtime.from_lua
        header_map = {_text(k): _text(v) for k, v in (from_lua(headers) or {}).items()}
        part_map = from_lua(parts) or {}
        if isinstance(part_map, list):  # an array of {type=, content=}
            pairs = [(_text(p.get(b"type", b"text/plain")), _bytes(p.get(b"content", b"")))
                     for p in part_map]
        else:
            pairs = sorted((_text(k), _bytes(v)) for k, v in part_map.items())
            pairs.sort(key=lambda item: "html" in item[0])  # text/plain before text/html
        found = from_lua(attachments) or []
        attach = [{_text(k): v for k, v in a.items()} for a in
                  (found if isinstance(found, list) else [found])]
        msg.set_raw(build_message(header_map, pairs, attach))
        return True

    def _recipients(self, value: Any, what: str) -> list[str]:
        found = self.runtime.from_lua(value)
        items = found if isinstance(found, list) else [found]
        addresses = [_text(item).strip().strip("<>") for item in items if item]
        if not addresses:
            raise ValueError(f"msg:{what}: no recipient given")
        return addresses

    def _inject(self, msg: Any, mailfrom: Any, rcpts: Any) -> bytes:
        from .lib_inject import inject_bytes
        sender = _text(mailfrom or b"").strip().strip("<>")
        return inject_bytes(self.runtime, msg.raw(), sender, self._recipients(rcpts, "inject"),
                            origin=msg).encode()

    def _forward(self, msg: Any, rcpts: Any, mailfrom: Any = None) -> bytes:
        from .lib_inject import inject_bytes
        sender = _text(mailfrom).strip().strip("<>") if mailfrom is not None else msg.mailfrom()
        return inject_bytes(self.runtime, msg.raw(), sender, self._recipients(rcpts, "forward"),
                            origin=msg).encode()

    # -- envelope and addresses -------------------------------------------------------
    def _get_envelope2(self, msg: Any, which: Any, local_buf: Any, domain_buf: Any) -> bool:
        kind = int(which)
        if kind not in (ENV_FROM, ENV_TO):
            raise ValueError("the first argument must be msys.core.EC_MSG_ENV_FROM or "
                             "EC_MSG_ENV_TO")
        address = msg.mailfrom() if kind == ENV_FROM else msg.rcptto()
        local, at, domain = address.rpartition("@")
        if not at:
            local, domain = address, ""
        for buffer, value in ((local_buf, local), (domain_buf, domain)):
            if self.runtime.sandbox.lua_type(buffer) != "table":
                raise TypeError("pass buffers made by msys.core.string_new()")
            buffer[b"value"] = value.encode("utf-8", "surrogateescape")
        return True

    def _routing_domain(self, msg: Any, new: Any = None) -> Any:
        if new is not None:
            msg.vctx.set("mess", "routing_domain", _text(new).strip().lower())
        chosen = msg.vctx.get("mess", "routing_domain")
        if chosen:
            return chosen.encode()
        _, at, domain = msg.rcptto().rpartition("@")
        return domain.lower().encode() if at else None

    def _delivery_method(self, msg: Any) -> bytes:
        config = getattr(self.runtime, "config", None)
        method = DEFAULT_DELIVERY_METHOD
        if config is not None:
            domain = self._routing_domain(msg)
            binding = getattr(getattr(msg.vctx, "real", msg.vctx), "binding", None)
            method = config.get("delivery_method", binding=binding,
                                domain=domain.decode() if domain else None) or method
        return str(method).lower().encode()

    def _listener_addr(self, msg: Any, which: Any = b"all") -> Any:
        address = msg.vctx.get("conn", "local_addr") or ""
        host, _, port = address.rpartition(":")
        which_text = _text(which or b"all")
        if which_text == "ip":
            return host.strip("[]").encode()
        if which_text == "port":
            return int(port) if port.isdigit() else None
        return address.encode()

    def _address_header(self, target: Any, name: Any, component: Any = None) -> Any:
        values = target.header(_text(name)) if hasattr(target, "mailfrom") else \
            target.headers.get_all(_text(name))
        found = addresses_of(values)
        if component is None:
            return self.runtime.to_lua(found)
        key = _COMPONENTS.get(_text(component).lower())
        if key is None:
            raise ValueError(f"unknown address component {_text(component)!r} "
                             "(name, local_part, domain, address)")
        return self.runtime.to_lua([entry[key] for entry in found])

    def _context_exists_and_get(self, msg: Any, which: Any, key: Any) -> Any:
        value = msg.vctx.get(_text(which), _text(key))
        return (False, None) if value is None else (True, _bytes(value))

    # -- new parts --------------------------------------------------------------------
    def _make_part(self, msg: Any, content_type: Any, body: Any = b"", headers: Any = None) -> Any:
        head = _extra_headers(self.runtime.from_lua(headers))
        raw = (f"Content-Type: {_text(content_type)}\r\n{head}\r\n".encode()
               + _bytes(body or b""))
        return self._wrap(Part.from_bytes(raw))

    def _make_container(self, msg: Any, content_type: Any = b"multipart/mixed",
                        headers: Any = None) -> Any:
        ctype = _text(content_type)
        if not ctype.lower().startswith("multipart/"):
            raise ValueError(f"a container must be multipart/*, not {ctype!r}")
        boundary = make_boundary()
        head = _extra_headers(self.runtime.from_lua(headers))
        raw = (f'Content-Type: {ctype}; boundary="{boundary}"\r\n{head}\r\n'
               f"--{boundary}--\r\n").encode()
        return self._wrap(Part.from_bytes(raw))


def _extra_headers(headers: Any) -> str:
    if not headers:
        return ""
    return "".join(f"{_text(k)}: {_text(v)}\r\n" for k, v in dict(headers).items())
