"""SMTP command-line parsing: verb + argument, MAIL/RCPT paths and ESMTP parameters.

Called by smtp/session.py for every command line (already split off the wire by
_speedups/smtpline, terminator removed). Pure functions over text: never touches a
socket, the configuration or the vctx; bad input raises CommandError carrying the
exact Reply to send (code + enhanced code), never anything else.

Parameters understood: MAIL -- SIZE (RFC 1870), BODY=7BIT|8BITMIME (RFC 6152),
SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461), AUTH (RFC 4954, kept for the auth
extension); RCPT -- NOTIFY and ORCPT (RFC 3461). Anything else is ``555 5.5.4``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import replies
from .address import AddressError, Mailbox, parse_path
from .replies import Reply

_KEYWORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*\Z")
_VALUE = re.compile(r"[\x21-\x3c\x3e-\x7e\u0080-\U0010FFFF]+\Z")
_XTEXT = re.compile(r"(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})+\Z")
_NOTIFY_WORDS = frozenset({"SUCCESS", "FAILURE", "DELAY"})


class CommandError(Exception):
    """A command could not be accepted; ``reply`` is what the client gets."""

    def __init__(self, reply: Reply):
        super().__init__(str(reply))
        self.reply = reply


@dataclass(frozen=True)
class Command:
    verb: str  # upper-case, e.g. "MAIL"
    arg: str  # everything after the verb and one space, trailing whitespace removed
    had_trailing_whitespace: bool = False


@dataclass
class PathArgs:
    mailbox: Mailbox | None  # None for the null path <>
    raw_path: str  # between the brackets, as written
    params: dict[str, str | None] = field(default_factory=dict)  # keys upper-case


@dataclass
class MailParams:
    size: int | None = None
    body: str | None = None  # "7BIT" | "8BITMIME"
    smtputf8: bool = False
    ret: str | None = None  # "FULL" | "HDRS"
    envid: str | None = None  # xtext as sent
    auth: str | None = None  # RFC 4954 AUTH= value as sent


@dataclass
class RcptParams:
    notify: list[str] | None = None  # ["NEVER"] or a subset of SUCCESS/FAILURE/DELAY
    orcpt: str | None = None  # "rfc822;xtext" as sent


def decode_line(line: bytes) -> str:
    """Bytes off the wire to text; never fails (undecodable bytes become surrogates)."""
    return line.decode("utf-8", "surrogateescape")


def parse_command(line: bytes) -> Command:
    """Split a command line into verb and argument."""
    text = decode_line(line)
    stripped = text.rstrip(" \t")
    trailing = len(stripped) != len(text)
    verb, _, arg = stripped.partition(" ")
    return Command(verb.upper(), arg.lstrip(" ") if verb.upper() in ("MAIL", "RCPT") else arg,
                   trailing)


def split_path_arg(arg: str, keyword: str, *, allow_whitespace: bool,
                   pedantic: bool) -> tuple[str, str]:
    """``FROM:<a@b> SIZE=1`` -> (``a@b``, ``SIZE=1``). Raises AddressError on bad syntax."""
    head = arg[: len(keyword) + 1]
    if head.upper() != keyword + ":":
        raise AddressError(f"expected {keyword}:")
    rest = arg[len(keyword) + 1:]
    if rest[:1] in (" ", "\t"):
        if not allow_whitespace:
            raise AddressError("whitespace not permitted in envelope")
        rest = rest.lstrip(" \t")
    if rest.startswith("<"):
        depth_end = _find_path_end(rest)
        inner, params = rest[1:depth_end], rest[depth_end + 1:]
        if params and not params.startswith(" "):
            raise AddressError("junk after path")
        return inner, params.strip(" ")
    if pedantic:
        raise AddressError("path must be enclosed in <>")
    inner, _, params = rest.partition(" ")
    return inner, params.strip(" ")


def _find_path_end(text: str) -> int:
    """Index of the '>' closing the path that starts at text[0] == '<' (quotes respected)."""
    i, quoted = 1, False
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == ">" and not quoted:
            return i
        i += 1
    raise AddressError("missing '>'")


def parse_params(text: str) -> dict[str, str | None]:
    """``SIZE=10 BODY=8BITMIME SMTPUTF8`` -> {"SIZE": "10", ...}. Duplicates are an error."""
    params: dict[str, str | None] = {}
    for item in text.split(" "):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not _KEYWORD.match(key) or (eq and not _VALUE.match(value)):
            raise CommandError(Reply(501, "5.5.4", f"bad ESMTP parameter {item[:40]!r}"))
        key = key.upper()
        if key in params:
            raise CommandError(Reply(501, "5.5.4", f"duplicate ESMTP parameter {key}"))
        params[key] = value if eq else None
    return params


def parse_path_command(arg: str, keyword: str, *, pedantic: bool = True,
                       allow_whitespace: bool = False, is_rcpt: bool = False) -> PathArgs:
    """Parse ``FROM:<path> params`` / ``TO:<path> params``; raises CommandError."""
    syntax = replies.RCPT_SYNTAX if is_rcpt else replies.MAIL_SYNTAX
    try:
        inner, param_text = split_path_arg(arg, keyword, allow_whitespace=allow_whitespace,
                                           pedantic=pedantic)
    except AddressError as exc:
        raise CommandError(Reply(syntax.code, syntax.enhanced, f"{syntax.text}: {exc}")) from None
    params = parse_params(param_text)
    utf8 = True  # parsed as RFC 6531; the session refuses non-ASCII without SMTPUTF8 (553 5.6.7)
    if is_rcpt and inner == "":
        raise CommandError(Reply(501, "5.1.3", "null recipient not permitted"))
    try:
        mailbox = parse_path(inner, pedantic=pedantic, utf8=utf8, allow_postmaster=is_rcpt)
    except AddressError as exc:
        code = Reply(553, "5.1.3" if is_rcpt else "5.1.7", f"bad address syntax: {exc}")
        raise CommandError(code) from None
    return PathArgs(mailbox, inner, params)


def mail_params(params: dict[str, str | None], *, max_size: int) -> MailParams:
    """Check MAIL FROM parameters; ``max_size`` 0 means unlimited."""
    out = MailParams()
    for key, value in params.items():
        if key == "SIZE":
            if value is None or not value.isdigit() or len(value) > 20:
                raise CommandError(Reply(501, "5.5.4", "SIZE requires a number"))
            out.size = int(value)
            if max_size and out.size > max_size:
                raise CommandError(replies.SIZE_EXCEEDED)
        elif key == "BODY":
            body = (value or "").upper()
            if body not in ("7BIT", "8BITMIME"):
                raise CommandError(Reply(501, "5.5.4", "BODY must be 7BIT or 8BITMIME"))
            out.body = body
        elif key == "SMTPUTF8":
            if value is not None:
                raise CommandError(Reply(501, "5.5.4", "SMTPUTF8 takes no value"))
            out.smtputf8 = True
        elif key == "RET":
            ret = (value or "").upper()
            if ret not in ("FULL", "HDRS"):
                raise CommandError(Reply(501, "5.5.4", "RET must be FULL or HDRS"))
            out.ret = ret
        elif key == "ENVID":
            if value is None or len(value) > 100 or not _XTEXT.match(value):
                raise CommandError(Reply(501, "5.5.4", "ENVID must be xtext of at most 100 characters"))
            out.envid = value
        elif key == "AUTH":
            out.auth = value
        else:
            raise CommandError(replies.PARAM_UNKNOWN)
    return out


def rcpt_params(params: dict[str, str | None]) -> RcptParams:
    """Check RCPT TO parameters (DSN NOTIFY / ORCPT)."""
    out = RcptParams()
    for key, value in params.items():
        if key == "NOTIFY":
            words = [w.upper() for w in (value or "").split(",")]
            if words == ["NEVER"]:
                out.notify = ["NEVER"]
            elif words and all(w in _NOTIFY_WORDS for w in words) and len(set(words)) == len(words):
                out.notify = words
            else:
                raise CommandError(Reply(501, "5.5.4", "NOTIFY must be NEVER or SUCCESS,FAILURE,DELAY"))
        elif key == "ORCPT":
            addr_type, semi, xtext = (value or "").partition(";")
            if not semi or not _KEYWORD.match(addr_type) or not xtext or len(value or "") > 500:
                raise CommandError(Reply(501, "5.5.4", "ORCPT must be addr-type;xtext"))
            if addr_type.lower() == "rfc822" and not _XTEXT.match(xtext):
                raise CommandError(Reply(501, "5.5.4", "ORCPT address is not valid xtext"))
            out.orcpt = value
        else:
            raise CommandError(replies.PARAM_UNKNOWN)
    return out
