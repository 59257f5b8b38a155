"""CHUNKING / BDAT (RFC 3030) for the inbound listener.

Registered into smtp/session.py on import: the ``BDAT`` verb, the ``CHUNKING``
EHLO keyword, and guards around the built-in ``DATA`` and ``RCPT`` (DATA or RCPT
after a BDAT chunk of the same transaction: ``503 5.5.1``).

``BDAT <size> [LAST]``: exactly ``size`` octets follow the command line; they are
read raw (no dot-unstuffing, no line splitting), in pieces of at most READ_PIECE
bytes so a huge declared size never sits in memory. The chunk is always read, even
when the command is refused, so its bytes are never taken for commands. Per chunk:
``250 2.0.0 <n> octets received``; at ``LAST`` the whole message goes to
Session.accept_message (data phases, spool, fsync) and its reply (``250 2.0.0 OK
<id>``) is sent only after the spool stored it. ``BDAT 0 LAST`` ends a message.

Errors: no MAIL (``503 5.5.1 MAIL FROM first``), no RCPT (``503 5.5.1 BDAT without
RCPT TO``), running total over max_message_size (the rest of the chunk is read and
discarded, ``552 5.3.4``), a bad argument (``501 5.5.4`` and the connection is
closed: the size of the data that follows is unknown, so nothing after it can be
trusted as a command). Any refused chunk ends the transaction, so later chunks get
``503`` until a new MAIL. BINARYMIME is not offered (bodies are 7bit/8bit text).
Never reads configuration except through ``session.settings``.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import replies, verbs
from .replies import Reply

if TYPE_CHECKING:
    from .session import Session

READ_PIECE = 1 << 20
_ARG = re.compile(r"\A([0-9]{1,15})(?:[ \t]+(LAST))?\Z", re.IGNORECASE)

BAD_SYNTAX = Reply(501, "5.5.4", "Syntax: BDAT <size> [LAST]; closing connection")
NO_RCPT = Reply(503, "5.5.1", "BDAT without RCPT TO")
DATA_AFTER_BDAT = Reply(503, "5.5.1", "DATA not allowed after BDAT in the same transaction")
RCPT_AFTER_BDAT = Reply(503, "5.5.1", "RCPT TO not allowed after BDAT in the same transaction")


class BdatTransaction:
    """The chunks of one message; valid while the session's transaction is the same one."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner  # the session's MailParams of this transaction
        self.chunks: list[bytes] = []
        self.size = 0


def current(session: "Session") -> BdatTransaction | None:
    """The BDAT transaction in progress, or None (none started, or RSET/new MAIL since)."""
    state = getattr(session, "bdat_transaction", None)
    if state is not None and state.owner is session.mail_params and session.state == "rcpt":
        return state
    return None


def _read_chunk(session: "Session", size: int, keep_upto: int) -> tuple[list[bytes], int]:
    """Read ``size`` octets; keep at most ``keep_upto`` of them (negative: keep all)."""
    kept: list[bytes] = []
    kept_len = 0
    left = size
    while left > 0:
        piece = session.read_exact(min(left, READ_PIECE))
        left -= len(piece)
        if keep_upto < 0:
            kept.append(piece)
            kept_len += len(piece)
        elif kept_len < keep_upto:
            piece = piece[:keep_upto - kept_len]
            kept.append(piece)
            kept_len += len(piece)
    return kept, kept_len


def do_bdat(session: "Session", arg: str) -> None:
    match = _ARG.match(arg.strip())
    if match is None:
        session.close(BAD_SYNTAX)
        return
    size, last = int(match.group(1)), match.group(2) is not None
    refusal = None
    if session.state == "mail":
        refusal = NO_RCPT
    elif session.state != "rcpt":
        refusal = replies.MAIL_FIRST
    if refusal is not None:
        _read_chunk(session, size, 0)
        session.reply_with(refusal)
        return
    state = current(session)
    if state is None:
        refusal = verbs.rcptto_list_refusal(session)
        if refusal is not None:
            if session.state != "closed":  # the chunk is on the wire: read it away
                _read_chunk(session, size, 0)
            session.reply_with(refusal)
            return
        state = BdatTransaction(session.mail_params)
        session.bdat_transaction = state
    limit = session.settings.max_message_size
    room = max(0, limit - state.size) if limit else -1
    chunk, got = _read_chunk(session, size, room)
    if limit and state.size + size > limit:
        session.bdat_transaction = None
        session.reset_transaction()
        session.reply_with(replies.SIZE_EXCEEDED)
        return
    state.chunks.extend(chunk)
    state.size += got
    if not last:
        session.reply(250, "2.0.0", f"{size} octets received")
        return
    session.bdat_transaction = None
    session.accept_message(state.chunks or [b""], lone_lf_seen=None)


def _guard(verb: str, original: Any, refusal: Reply) -> Any:
    def guarded(session: "Session", arg: str) -> None:
        if current(session) is not None:
            session.reply_with(refusal)
            return
        original(session, arg)
    guarded.__name__ = f"{verb.lower()}_unless_bdat"
    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    return guarded


def chunking_capability(session: "Session") -> list[str]:
    return ["CHUNKING"]


def register() -> None:
    from .session import VERBS, register_capability, register_verb
    for verb, refusal in (("DATA", DATA_AFTER_BDAT), ("RCPT", RCPT_AFTER_BDAT)):
        original = VERBS.get(verb)
        if original is not None and not hasattr(original, "__wrapped__"):
            register_verb(verb, _guard(verb, original, refusal))
    register_verb("BDAT", do_bdat)
    register_capability(chunking_capability)


register()
