"""Trace and identity headers the listener adds: Received:, Message-ID:, Date:.

Called by the SMTP session once a message body is in and its data hooks ran.
``Received:`` follows RFC 5321 §4.4 (from / by / with / id; date)::

    Received: from <helo> (<ip> [<ip>])
    <TAB>by <hostname> (ecelerity <version>) with ESMTP[S][A] id <msgid>;
    <TAB><RFC 5322 date>

(the TCP-info slot holds the client's reverse DNS name when ``received_rdns`` is
on and the PTR answer came in time -- smtp/rdns.py -- else the address). ``with`` is SMTP after HELO, ESMTP after EHLO, UTF8SMTP when the
transaction used SMTPUTF8 (RFC 6531), plus S after STARTTLS and A after AUTH
(RFC 3848). Message-ID and Date are added at the end of the header block when
missing and the rfc2822_messageid_header / rfc2822_date_header option is
``ifneeded`` (other values: ``always`` replaces them, anything else leaves the
message alone). The Message-ID is Momentum's form: the message id with ``/`` and
``-`` turned into ``.``: ``<00.00.02001.C6DD1CA4@hostname>`` (§2.10).

Never reads configuration (the session passes resolved settings) and never
changes a byte of the body.
"""
from __future__ import annotations

import email.utils
import time

from .. import __version__
from .headers import format_field, header_fields, header_names


def protocol_name(*, esmtp: bool, tls: bool = False, auth: bool = False,
                  smtputf8: bool = False) -> str:
    base = "UTF8SMTP" if smtputf8 else ("ESMTP" if esmtp else "SMTP")
    return base + ("S" if tls else "") + ("A" if auth else "")


_last_date: list = [None, ""]   # [whole second, its formatted date]: one format per second


def rfc5322_date(when: float | None = None) -> str:
    if when is not None:
        return email.utils.formatdate(when, localtime=True)
    second = int(time.time())
    if _last_date[0] != second:
        _last_date[:] = [second, email.utils.formatdate(second, localtime=True)]
    return _last_date[1]


def received_header(*, helo: str | None, peer_ip: str, hostname: str, protocol: str,
                    msgid: str, when: float | None = None, rdns: str | None = None) -> bytes:
    """One folded Received: field ending in CRLF."""
    helo_part = _clean(helo) if helo else f"[{peer_ip}]"
    info = f"{_clean(rdns) if rdns else peer_ip} [{peer_ip}]"
    text = (f"Received: from {helo_part} ({info})\r\n"
            f"\tby {_clean(hostname)} (ecelerity {__version__}) with {protocol} id {msgid};\r\n"
            f"\t{rfc5322_date(when)}\r\n")
    return text.encode("utf-8", "surrogateescape")


def _clean(text: str) -> str:
    """A client-supplied word must not break the header: no CR, LF, parentheses or controls."""
    return "".join(ch if (ch.isprintable() and ch not in "()\\") else "?" for ch in text)[:255]


def message_id_value(msgid: str, hostname: str) -> str:
    return "<" + msgid.replace("/", ".").replace("-", ".") + "@" + hostname + ">"


def add_identity_headers(header_block: bytes, *, msgid: str, hostname: str,
                         messageid_policy: str, date_policy: str,
                         when: float | None = None) -> tuple[bytes, dict[str, str]]:
    """Add Message-ID / Date per policy. Returns the new block and what was added."""
    names = header_names(header_block)
    added: dict[str, str] = {}
    fields_ = header_fields(header_block)
    if fields_ and not fields_[-1].endswith(b"\n"):
        fields_[-1] += b"\r\n"
    for name, policy, value in (
        ("Message-ID", messageid_policy, lambda: message_id_value(msgid, hostname)),
        ("Date", date_policy, lambda: rfc5322_date(when)),
    ):
        lname = name.lower()
        if policy == "always":
            fields_ = [f for f in fields_ if f.split(b":", 1)[0].strip().lower() != lname.encode()]
        elif policy != "ifneeded" or lname in names:
            continue
        added[name] = value()
        fields_.append(format_field(name, added[name]))
    return b"".join(fields_), added
