"""RFC 5321 envelope address syntax: reverse-path and forward-path parsing.

Called by smtp/commands.py for MAIL FROM and RCPT TO. Handles the null sender
``<>``, quoted local parts, address literals (``[192.0.2.1]``, ``[IPv6:...]``),
SMTPUTF8 addresses (RFC 6531: UTF-8 in local part and domain only when the client
asked for it), the ``postmaster`` special case, and source routes
(``<@a,@b:user@c>``), which are stripped per RFC 5321 appendix C: the mailbox
after the route is the address. ``pedantic=False`` is Momentum's
``rfc2821_pedantic_address_rules = false``: unquoted local parts may then hold any
printable character except ``<>@``, whitespace and ``"`` (leading, trailing and
doubled dots included) and domains may hold ``_`` and a trailing dot.

Never interprets ``%`` or ``!`` routing hacks: a ``%`` is just a local-part byte,
so ``a%evil@local`` is a mailbox at ``local``. Never touches config or sockets;
raises AddressError with a short reason the session turns into a 501/553.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

MAX_LOCAL_PART = 64
MAX_DOMAIN = 255
MAX_PATH = 256

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_ATEXT_UTF8 = _ATEXT + r"\u0080-\U0010FFFF"
_DOT_STRING = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*\Z")
_DOT_STRING_UTF8 = re.compile(rf"[{_ATEXT_UTF8}]+(?:\.[{_ATEXT_UTF8}]+)*\Z")
_RELAXED_LOCAL = re.compile(r"[^\s<>@\"\\\x00-\x1f\x7f]+\Z")
_QUOTED = re.compile(r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"\Z')
_QUOTED_UTF8 = re.compile(r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\U0010FFFF]|\\[\x20-\x7e])*"\Z')
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\Z")
_LABEL_UTF8 = re.compile(r"[A-Za-z0-9\u0080-\U0010FFFF](?:[A-Za-z0-9\-\u0080-\U0010FFFF]*[A-Za-z0-9\u0080-\U0010FFFF])?\Z")
_LABEL_RELAXED = re.compile(r"[A-Za-z0-9_\-\u0080-\U0010FFFF]+\Z")
_GENERAL_LITERAL = re.compile(r"[A-Za-z0-9\-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+\Z")


class AddressError(ValueError):
    """The path is not valid RFC 5321 syntax; ``str(exc)`` is a short reason."""


@dataclass(frozen=True)
class Mailbox:
    """One envelope mailbox. ``domain`` is "" only for the bare ``postmaster`` recipient."""

    local: str  # as written (quotes kept), e.g. '"john doe"' or 'user%x'
    domain: str  # as written; an address literal keeps its brackets
    is_ip_literal: bool = False
    source_route: str | None = None  # the stripped "@a,@b" part, for logging only

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}" if self.domain else self.local

    @property
    def is_ascii(self) -> bool:
        return self.address.isascii()

    @property
    def domain_lower(self) -> str:
        return self.domain.lower().rstrip(".")

    def __str__(self) -> str:
        return self.address


def _check_domain(domain: str, *, pedantic: bool, utf8: bool) -> bool:
    """Validate a Domain or address-literal; returns True when it is an IP literal."""
    if not domain:
        raise AddressError("empty domain")
    if len(domain.encode("utf-8", "surrogateescape")) > MAX_DOMAIN:
        raise AddressError("domain too long")
    if domain.startswith("["):
        if not domain.endswith("]"):
            raise AddressError("unterminated address literal")
        inner = domain[1:-1]
        if inner[:5].lower() == "ipv6:":
            try:
                ipaddress.IPv6Address(inner[5:])
            except ValueError:
                raise AddressError("bad IPv6 address literal") from None
            return True
        try:
            ipaddress.IPv4Address(inner)
            return True
        except ValueError:
            pass
        if _GENERAL_LITERAL.match(inner):
            return True
        raise AddressError("bad address literal")
    name = domain
    if not pedantic and name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    if pedantic:
        pattern = _LABEL_UTF8 if utf8 else _LABEL
    else:
        pattern = _LABEL_RELAXED
    for label in labels:
        if not label or not pattern.match(label):
            raise AddressError(f"bad domain {domain!r}")
        if len(label) > 63 and label.isascii():
            raise AddressError("domain label too long")
    return False


def _check_local(local: str, *, pedantic: bool, utf8: bool) -> None:
    if not local:
        raise AddressError("empty local part")
    if len(local.encode("utf-8", "surrogateescape")) > MAX_LOCAL_PART and pedantic:
        raise AddressError("local part too long")
    if local.startswith('"'):
        if not (_QUOTED_UTF8 if utf8 else _QUOTED).match(local):
            raise AddressError("bad quoted local part")
        return
    if pedantic:
        if not (_DOT_STRING_UTF8 if utf8 else _DOT_STRING).match(local):
            raise AddressError(f"bad local part {local!r}")
    else:
        if not _RELAXED_LOCAL.match(local):
            raise AddressError(f"bad local part {local!r}")
        if not utf8 and not local.isascii():
            raise AddressError("non-ASCII local part")


def _split_mailbox(text: str) -> tuple[str, str]:
    """Split at the last '@' outside a quoted string."""
    if text.startswith('"'):
        i = 1
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                break
            i += 1
        else:
            raise AddressError("unterminated quoted local part")
        rest = text[i + 1:]
        if not rest.startswith("@"):
            if rest == "":
                return text, ""
            raise AddressError("junk after quoted local part")
        return text[: i + 1], rest[1:]
    local, at, domain = text.rpartition("@")
    if not at:
        return text, ""
    if "@" in local:
        raise AddressError("more than one '@'")
    return local, domain


def parse_mailbox(text: str, *, pedantic: bool = True, utf8: bool = False) -> Mailbox:
    """Parse ``local@domain`` (no brackets, no route). ``utf8`` allows RFC 6531 addresses."""
    if len(text.encode("utf-8", "surrogateescape")) > MAX_PATH:
        raise AddressError("address too long")
    local, domain = _split_mailbox(text)
    if not domain:
        if local.lower() == "postmaster":
            return Mailbox(local, "")
        raise AddressError("address has no domain")
    _check_local(local, pedantic=pedantic, utf8=utf8)
    is_literal = _check_domain(domain, pedantic=pedantic, utf8=utf8)
    return Mailbox(local, domain, is_literal)


def strip_source_route(path: str) -> tuple[str, str | None]:
    """``@a,@b:user@c`` -> (``user@c``, ``@a,@b``); anything else is returned unchanged."""
    if not path.startswith("@"):
        return path, None
    route, colon, rest = path.partition(":")
    if not colon:
        raise AddressError("source route without ':'")
    for hop in route.split(","):
        if not hop.startswith("@") or len(hop) < 2:
            raise AddressError("bad source route")
        _check_domain(hop[1:], pedantic=False, utf8=True)
    return rest, route


def parse_path(inner: str, *, pedantic: bool = True, utf8: bool = False,
               allow_postmaster: bool = False) -> Mailbox | None:
    """Parse what was between ``<`` and ``>``. Returns None for the null path ``<>``."""
    if inner == "":
        return None
    mailbox_text, route = strip_source_route(inner)
    box = parse_mailbox(mailbox_text, pedantic=pedantic, utf8=utf8)
    if not box.domain and not allow_postmaster:
        raise AddressError("address has no domain")
    if route is not None:
        box = Mailbox(box.local, box.domain, box.is_ip_literal, route)
    return box
