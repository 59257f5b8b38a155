"""SMTP reply formatting and the table of standard replies the listener sends.

Every reply the ESMTP listener emits is a ``Reply`` (code, enhanced status code,
text). Momentum's own strings (momentum-facts.md §2.9, §5.5) are kept verbatim so
log tooling and wire-compat tests that match on them keep working. The session and
the extension modules (tls, auth, bdat, xclient) format through ``Reply.wire``;
nothing here touches a socket or the configuration.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """One SMTP reply. ``text`` may hold several lines separated by ``\\n``."""

    code: int
    enhanced: str | None
    text: str

    def wire(self, enhanced_codes: bool = True) -> bytes:
        """The reply as sent: ``250-a\\r\\n250 b\\r\\n``; every line carries the enhanced code."""
        lines = self.text.split("\n") if self.text else [""]
        prefix = f"{self.enhanced} " if (enhanced_codes and self.enhanced) else ""
        out = []
        last = len(lines) - 1
        for i, line in enumerate(lines):
            sep = " " if i == last else "-"
            out.append(f"{self.code}{sep}{prefix}{line}".rstrip(" ") + "\r\n")
        return "".join(out).encode("utf-8", "surrogateescape")

    def __str__(self) -> str:
        return f"{self.code} {self.enhanced} {self.text}" if self.enhanced else f"{self.code} {self.text}"

    @property
    def is_positive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        return self.code >= 500


def parse_code_text(code: int, text: str) -> Reply:
    """Build a Reply from a hook's ``set_code(550, "5.7.1 go away")``: split off the enhanced code.

    A text without a leading x.y.z gets a class-appropriate generic one (2.0.0 / 4.0.0 / 5.0.0).
    """
    head, _, rest = text.partition(" ")
    parts = head.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and parts[0] in "245":
        return Reply(int(code), head, rest)
    klass = str(int(code))[0]
    return Reply(int(code), f"{klass}.0.0", text)


# -- the standard replies ------------------------------------------------------------------
# Momentum's exact strings (§2.9 / §5.5) where it has one; RFC 3463 codes elsewhere.
MAIL_OK = Reply(250, "2.0.0", "MAIL FROM accepted")
RCPT_OK = Reply(250, "2.0.0", "RCPT TO accepted")
DATA_GO = Reply(354, "3.0.0", 'continue.  finished with "\\r\\n.\\r\\n"')
RSET_OK = Reply(250, "2.0.0", "reset")
NOOP_OK = Reply(250, "2.0.0", "ok")
VRFY_NO_DISCLOSURE = Reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery")
EXPN_NO_DISCLOSURE = Reply(252, "2.5.2", "Cannot EXPN list, but will accept message and attempt delivery")
HELP = Reply(214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY EXPN HELP\n"
                           "See RFC 5321 or https://www.rfc-editor.org/rfc/rfc5321")

RELAYING_DENIED = Reply(550, "5.7.1", "relaying denied")
SIZE_EXCEEDED = Reply(552, "5.3.4", "message size limit exceeded")
CONCURRENCY_LIMIT = Reply(421, "4.4.5", "Service unavailable, concurrency limit reached")
RCPT_LIMIT = Reply(452, "4.5.3", "Service unavailable, recipients per message limit reached")
MISSING_HEADERS = Reply(550, "5.6.0", "Required headers not found (see RFC2822 section 3.6)")
DATA_WITHOUT_RCPT = Reply(503, "5.5.1", "DATA without RCPT TO")
RCPT_SYNTAX = Reply(501, "5.5.2", "RCPT TO syntax error")
MAIL_SYNTAX = Reply(501, "5.5.2", "MAIL FROM syntax error")
UNRECOGNIZED = Reply(500, "5.5.2", "unrecognized command")
LINE_TOO_LONG = Reply(500, "5.5.2", "Line too long")
TRAILING_WHITESPACE = Reply(501, "5.5.2", "trailing whitespace not permitted")
SPOOL_FULL = Reply(452, "4.3.1", "Insufficient system storage")
SPOOL_FAILED = Reply(451, "4.3.0", "Temporary failure writing the message, try again later")
LOCAL_ERROR = Reply(451, "4.3.0", "Local error in processing, try again later")

EHLO_FIRST = Reply(503, "5.5.1", "EHLO/HELO first")
EHLO_REQUIRED = Reply(503, "5.5.1", "EHLO required")
HELO_SYNTAX = Reply(501, "5.5.4", "HELO/EHLO requires a domain or address literal")
NESTED_MAIL = Reply(503, "5.5.1", "MAIL FROM already given (use RSET)")
MAIL_FIRST = Reply(503, "5.5.1", "MAIL FROM first")
NULL_SENDER_REFUSED = Reply(550, "5.1.7", "null envelope sender not permitted")
IP_LITERAL_REFUSED = Reply(553, "5.1.3", "IP literal addresses not permitted")
PARAM_UNKNOWN = Reply(555, "5.5.4", "MAIL FROM/RCPT TO parameters not recognized or not implemented")
NON_ASCII_NEEDS_SMTPUTF8 = Reply(553, "5.6.7", "non-ASCII address requires SMTPUTF8")
MESSAGE_LIMIT = Reply(421, "4.7.0", "too many messages in this connection, reconnect to continue")
THROTTLED = Reply(451, "4.7.1", "inbound message rate exceeded, try again later")
LONE_LF = Reply(550, "5.6.0", "message contains a bare LF or CR (RFC 5322 section 2.3 requires CRLF)")
LONG_LINE = Reply(550, "5.6.0", "message contains a line longer than the permitted limit")
NO_VALID_RECIPIENTS = Reply(554, "5.5.0", "no valid recipients")
IDLE_TIMEOUT = Reply(421, "4.4.2", "idle timeout, closing connection")
SESSION_TIMEOUT = Reply(421, "4.4.2", "session time limit reached, closing connection")
DISCONNECT_DEFAULT = Reply(421, "4.7.0", "closing connection")
SHUTTING_DOWN = Reply(421, "4.3.2", "Service shutting down, closing connection")
