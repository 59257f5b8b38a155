"""Verify every DKIM signature of one message; results shaped like libopendkim's.

Called by service.py (validate_inbound at the data phase, Lua's
msys.validate.opendkim.verify). Key records are fetched by ``txt_lookup(name) ->
list[bytes] | None`` (None: no such record); ``txt_from_resolver`` builds one on
delivery/dns.py's DnsResolver, whose queries go out on gevent sockets, so a lookup
suspends only the calling greenlet. A temporary DNS failure raises DnsTempFail
inside the lookup and becomes DKIM_STAT_KEYFAIL. dkimpy does all the
cryptography; this module only maps its outcomes. Never changes the message.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

# libopendkim's DKIM_STAT values (dkim.h) and signature flags (DKIM_SIGFLAG_*)
STAT_OK, STAT_BADSIG, STAT_NOSIG, STAT_NOKEY, STAT_CANTVRFY, STAT_SYNTAX = 0, 1, 2, 3, 4, 5
STAT_INTERNAL, STAT_KEYFAIL = 7, 11
STAT_NAMES = {STAT_OK: "DKIM_STAT_OK", STAT_BADSIG: "DKIM_STAT_BADSIG",
              STAT_NOSIG: "DKIM_STAT_NOSIG", STAT_NOKEY: "DKIM_STAT_NOKEY",
              STAT_CANTVRFY: "DKIM_STAT_CANTVRFY", STAT_SYNTAX: "DKIM_STAT_SYNTAX",
              6: "DKIM_STAT_NORESOURCE", STAT_INTERNAL: "DKIM_STAT_INTERNAL",
              8: "DKIM_STAT_REVOKED", 9: "DKIM_STAT_INVALID",
              10: "DKIM_STAT_NOTIMPLEMENT", STAT_KEYFAIL: "DKIM_STAT_KEYFAIL",
              12: "DKIM_STAT_CBREJECT", 13: "DKIM_STAT_CBTRYAGAIN", 14: "DKIM_STAT_CBERROR"}
SIGFLAG_PROCESSED, SIGFLAG_PASSED, SIGFLAG_TESTKEY, SIGFLAG_KEYLOADED = 0x02, 0x04, 0x08, 0x20

TxtLookup = Callable[[str], "list[bytes] | None"]


class DnsTempFail(Exception):
    """The key record could not be fetched now (timeout, SERVFAIL): try again later."""


@dataclass
class SignatureResult:
    """One DKIM-Signature and what verifying it gave (libopendkim's DKIM_SIGINFO)."""

    index: int
    domain: str = ""
    selector: str = ""
    identity: str = ""
    algorithm: str = ""
    header_canon: str = "simple"
    body_canon: str = "simple"
    signed_headers: tuple[str, ...] = ()
    keysize: int = 0
    status: int = STAT_CANTVRFY
    flags: int = 0
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.status == STAT_OK

    @property
    def result(self) -> str:
        """RFC 8601 result word: pass, fail, neutral, temperror or permerror."""
        return {STAT_OK: "pass", STAT_BADSIG: "fail", STAT_KEYFAIL: "temperror",
                STAT_SYNTAX: "neutral"}.get(self.status, "permerror")


@dataclass
class VerifyResult:
    """All signatures of a message; ``status`` is the overall DKIM_STAT."""

    signatures: list[SignatureResult] = field(default_factory=list)
    status: int = STAT_NOSIG

    @property
    def summary(self) -> str:
        """pass if any signature passed, else the first one's result, else none."""
        if any(sig.passed for sig in self.signatures):
            return "pass"
        return self.signatures[0].result if self.signatures else "none"


class _Capture(logging.Logger):
    """dkimpy reports why a key was refused only through its logger: keep the last error."""

    def __init__(self) -> None:
        super().__init__("ecelerity.dkim.verify", logging.CRITICAL + 1)
        self.last_error = ""

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:  # noqa: D401
        self.last_error = str(msg % args if args else msg)


def _describe(fields: dict[bytes, bytes], index: int) -> SignatureResult:
    def text(key: bytes) -> str:
        return fields.get(key, b"").decode("ascii", "replace").strip()
    header_canon, _, body_canon = text(b"c").partition("/")
    headers = tuple(h.strip().lower() for h in re.split(r"\s*:\s*", text(b"h")) if h.strip())
    domain = text(b"d").lower()
    return SignatureResult(index, domain=domain, selector=text(b"s"),
                           identity=text(b"i") or f"@{domain}", algorithm=text(b"a"),
                           header_canon=header_canon or "simple",
                           body_canon=body_canon or "simple", signed_headers=headers)


def _key_fetcher(txt_lookup: TxtLookup, state: dict[str, Any]) -> Callable[..., bytes | None]:
    """dkimpy's dnsfunc over ``txt_lookup``, noting in ``state`` what the lookup gave."""
    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            records = txt_lookup(name.decode("ascii", "replace").rstrip("."))
        except DnsTempFail as exc:
            state["tempfail"] = str(exc)
            raise dkim.DnsTimeoutError(str(exc)) from None
        if not records:
            state["nokey"] = True
            return None
        text = records[0]
        state["testkey"] = bool(re.search(rb"(^|;)\s*t\s*=\s*[^;]*y", text))
        return text
    return dnsfunc


def verify_message(message: bytes, txt_lookup: TxtLookup, *, minkey: int = 1024) -> VerifyResult:
    """Verify each DKIM-Signature (top first); see SignatureResult for what is kept."""
    capture = _Capture()
    checker = dkim.DKIM(message, logger=capture, minkey=minkey)
    headers = [value for name, value in checker.headers if name.lower() == b"dkim-signature"]
    outcome = VerifyResult()
    for index, raw in enumerate(headers):
        try:
            sig = _describe(parse_tag_value(raw), index)
        except InvalidTagValueList as exc:
            outcome.signatures.append(SignatureResult(index, status=STAT_SYNTAX, error=str(exc)))
            continue
        state: dict[str, Any] = {"nokey": False, "tempfail": "", "testkey": False}

        dnsfunc = _key_fetcher(txt_lookup, state)
        capture.last_error = ""
        try:
            ok = checker.verify(idx=index, dnsfunc=dnsfunc)
            error = capture.last_error
        except dkim.MessageFormatError as exc:
            ok, error = False, str(exc)
            sig.status = STAT_SYNTAX
        except dkim.DKIMException as exc:
            ok, error = False, str(exc)
        sig.keysize = int(getattr(checker, "keysize", 0) or 0)
        sig.flags = SIGFLAG_PROCESSED
        if state["tempfail"]:
            sig.status, error = STAT_KEYFAIL, error or state["tempfail"]
        elif state["nokey"]:
            sig.status, error = STAT_NOKEY, error or "no key record"
        elif ok:
            sig.status = STAT_OK
            sig.flags |= SIGFLAG_PASSED | SIGFLAG_KEYLOADED
        elif sig.status != STAT_SYNTAX:
            sig.status = STAT_BADSIG
            sig.flags |= SIGFLAG_KEYLOADED if sig.keysize else 0
            error = error or "signature did not verify"
        if state["testkey"]:
            sig.flags |= SIGFLAG_TESTKEY
        sig.error = error if not ok else ""
        outcome.signatures.append(sig)
    if outcome.signatures:
        outcome.status = STAT_OK if any(s.passed for s in outcome.signatures) \
            else outcome.signatures[0].status
    return outcome


def txt_from_resolver(resolver: Any) -> TxtLookup:
    """A TxtLookup on delivery.dns.DnsResolver (cached, TTL-bounded, gevent sockets)."""
    import dns.rdatatype

    from ..delivery.dns import DnsError

    def lookup(name: str) -> list[bytes] | None:
        try:
            answer = resolver.lookup(name, dns.rdatatype.TXT)
        except DnsError as exc:
            raise DnsTempFail(f"{name} TXT: {exc.text}") from None
        if not answer.records:
            return None
        return [b"".join(rdata.strings) for rdata in answer.records]
    return lookup
