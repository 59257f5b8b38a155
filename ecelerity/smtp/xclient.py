"""XCLIENT (Postfix's protocol, https://www.postfix.org/XCLIENT_README.html) for trusted peers.

Registered into smtp/session.py on import: the ``XCLIENT`` verb and its EHLO
keyword ``XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT``, both only
for a client whose *real* address is inside ``xclient_hosts`` (a CIDR list, like
relay_hosts; unset = nobody). A proxy in front of us (an SMTP load balancer,
Postfix's postscreen) uses it to pass on the original client's identity.

``XCLIENT attr=value ...`` (values xtext-encoded, ``[UNAVAILABLE]`` and
``[TEMPUNAVAIL]`` clear an attribute): ADDR (IPv4 or ``IPV6:...``), PORT, NAME
(client host name, vctx ``xclient_name``), HELO (as if the client had said
HELO; a later EHLO replaces it), PROTO (SMTP | ESMTP), LOGIN (the SASL user: the
session counts as authenticated, auth_name ``XCLIENT``), DESTADDR/DESTPORT (our
address as the client saw it). On success the session starts over as if the new
client had just connected: the transaction and the vctx are new (TLS facts are
kept), the peer-dependent settings are resolved again for the new ADDR (Peer
scopes, relay_hosts, limits) when the settings know their configuration, the
``connect`` phase runs again, and the reply is the 220 greeting. XCLIENT may be
repeated; trust is always judged on the real peer address.

Refusals: ``550 5.7.0 Error: insufficient authorization`` (untrusted peer),
``503 5.5.1 Error: MAIL transaction in progress``, ``501 5.5.4`` (syntax, unknown
attribute, bad address or port). Never reads configuration except through
``SessionSettings``; never does I/O besides the session's replies.
"""
from __future__ import annotations

import ipaddress
import logging
import re
from typing import TYPE_CHECKING, Any

from ..policy import relay
from ..policy.vctx import ValidationContext
from .replies import Reply

if TYPE_CHECKING:
    from .session import Session

log = logging.getLogger("ecelerity.smtp")

ATTRIBUTES = ("NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT")
UNAUTHORIZED = Reply(550, "5.7.0", "Error: insufficient authorization")
IN_TRANSACTION = Reply(503, "5.5.1", "Error: MAIL transaction in progress")
_XTEXT = re.compile(r"\+([0-9A-F]{2})")


class XclientError(ValueError):
    """A bad XCLIENT argument; the message goes into the 501 reply."""


def decode_xtext(text: str) -> str:
    """RFC 3461 xtext: ``+HH`` is the byte 0xHH."""
    return _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), text)


def parse_attributes(arg: str) -> dict[str, str | None]:
    """``"ADDR=1.2.3.4 NAME=[UNAVAILABLE]"`` -> ``{"ADDR": "1.2.3.4", "NAME": None}``."""
    attrs: dict[str, str | None] = {}
    words = arg.split()
    if not words:
        raise XclientError("Syntax: XCLIENT attribute=value ...")
    for word in words:
        name, eq, value = word.partition("=")
        name = name.upper()
        if not eq or name not in ATTRIBUTES:
            raise XclientError(f"Bad XCLIENT attribute name: {name or word}")
        value = decode_xtext(value)
        attrs[name] = None if value.upper() in ("[UNAVAILABLE]", "[TEMPUNAVAIL]") else value
    return attrs


def _address(value: str) -> str:
    text = value[5:] if value.upper().startswith("IPV6:") else value
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise XclientError(f"Bad XCLIENT address syntax: {value}") from None


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise XclientError(f"Bad XCLIENT port: {value}")
    return int(value)


def _networks(settings: Any) -> tuple:
    value = getattr(settings, "xclient_hosts", None) or ()
    if isinstance(value, str):
        value = value.split()
    if value and isinstance(next(iter(value)), str):
        value = relay.parse_networks(value)
    return tuple(value)


def real_peer(session: "Session") -> str:
    return getattr(session, "xclient_real_peer", None) or session.peer_ip


def trusted(session: "Session") -> bool:
    return relay.peer_in_networks(real_peer(session), _networks(getattr(
        session, "xclient_real_settings", None) or session.settings))


def xclient_capability(session: "Session") -> list[str]:
    return ["XCLIENT " + " ".join(ATTRIBUTES)] if trusted(session) else []


def _resettle(session: "Session", new_ip: str) -> None:
    """Resolve the peer-dependent settings again for the new client address."""
    settings = session.settings
    cfg = getattr(settings, "source_config", None)
    if cfg is None:
        log.debug("XCLIENT: settings of %s do not know their configuration; kept", session.peer_ip)
        return
    try:
        session.settings = type(settings).resolve(cfg, listen=getattr(settings, "listen", None),
                                                  peer_ip=new_ip,
                                                  listener=getattr(settings, "listener", "esmtp_listener"))
    except Exception as exc:  # noqa: BLE001 - keep the old settings rather than lose the session
        log.error("XCLIENT: cannot resolve settings for %s: %s", new_ip, exc)


def do_xclient(session: "Session", arg: str) -> None:
    if not trusted(session):
        session.reply_with(UNAUTHORIZED)
        return
    if session.state in ("mail", "rcpt"):
        session.reply_with(IN_TRANSACTION)
        return
    try:
        attrs = parse_attributes(arg)
        addr = _address(attrs["ADDR"]) if attrs.get("ADDR") else None
        port = _port(attrs["PORT"]) if attrs.get("PORT") else None
        dest = _address(attrs["DESTADDR"]) if attrs.get("DESTADDR") else None
        dest_port = _port(attrs["DESTPORT"]) if attrs.get("DESTPORT") else None
        proto = (attrs.get("PROTO") or "").upper()
        if proto and proto not in ("SMTP", "ESMTP"):
            raise XclientError(f"Bad XCLIENT protocol: {proto}")
    except XclientError as exc:
        session.reply(501, "5.5.4", str(exc))
        return
    if not hasattr(session, "xclient_real_peer"):
        session.xclient_real_peer = session.peer_ip
        session.xclient_real_settings = session.settings
    log.info("XCLIENT from %s: %s", real_peer(session),
             " ".join(f"{k}={v if v is not None else '[UNAVAILABLE]'}" for k, v in attrs.items()))
    _restart(session, attrs, addr, port, dest, dest_port, proto)


def _restart(session: "Session", attrs: dict[str, str | None], addr: str | None, port: int | None,
             dest: str | None, dest_port: int | None, proto: str) -> None:
    tls_facts = {k: v for k, v in session.vctx.conn.items() if k.startswith("tls")}
    session.reset_transaction()
    if "ADDR" in attrs:
        session.peer_ip = addr or "0.0.0.0"
        _resettle(session, session.peer_ip)
    if "PORT" in attrs:
        session.peer_port = port or 0
    if "DESTADDR" in attrs or "DESTPORT" in attrs:
        host, _, old_port = session.local_addr.rpartition(":")
        session.local_addr = f"{dest or host}:{dest_port if dest_port is not None else old_port}"
    session.vctx = ValidationContext()
    conn = session.vctx.conn
    conn.update(tls_facts)
    conn["xclient"] = "true"
    conn["xclient_real_peer"] = real_peer(session)
    if attrs.get("NAME"):
        conn["xclient_name"] = attrs["NAME"] or ""
    session.helo = None
    session.esmtp = False
    session.state = "connected"
    session.authenticated_user = None
    if attrs.get("HELO"):
        helo = attrs["HELO"] or ""
        session.helo = helo.split()[0] if helo.split() else None
        conn["ehlo_string"] = helo
        conn["ehlo_domain"] = session.helo or ""
        session.state = "greeted" if session.helo else "connected"
        session.esmtp = proto != "SMTP"
    if attrs.get("LOGIN"):
        session.authenticated_user = attrs["LOGIN"]
        conn.update(auth_user=attrs["LOGIN"] or "", auth_name="XCLIENT", auth_status="pass")
    session.greet()  # the connect phase again, then the 220 greeting (or a refusal)


def register() -> None:
    from .session import register_capability, register_verb
    register_verb("XCLIENT", do_xclient)
    register_capability(xclient_capability)


register()
