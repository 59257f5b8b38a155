"""The built-in SMTP verbs: HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, VRFY, EXPN, HELP.

Each handler is ``handler(session, arg)`` and is registered in smtp/session.py's
verb table on import (extensions add STARTTLS, AUTH, BDAT, XCLIENT the same way).
Order inside a command: state checks, syntax, the built-in policy checks (limits,
relay, null sender, IP literals), then the phase's hooks (policy/phases.py), then
the reply. Handlers only queue replies; the session flushes them. Never reads
configuration except through ``session.settings``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.envelope import Recipient
from ..policy import relay
from . import replies
from .commands import CommandError, mail_params, parse_path_command, rcpt_params
from .replies import Reply

if TYPE_CHECKING:
    from .session import Session


def _syntax_only_no_arg(session: "Session", arg: str, verb: str) -> bool:
    if arg.strip():
        session.reply(501, "5.5.4", f"{verb} takes no arguments")
        return False
    return True


def _count(session: "Session", which: str, key: str, step: int = 1) -> None:
    ctx = session.vctx.conn if which == "conn" else session.vctx.mess
    ctx[key] = str(int(ctx.get(key, "0") or 0) + step)


def do_helo(session: "Session", arg: str, *, esmtp: bool = False) -> None:
    name = arg.strip()
    if not name or (session.settings.rfc2821_pedantic_address_rules and len(name.split()) > 1):
        session.reply_with(replies.HELO_SYNTAX)
        return
    session.reset_transaction()
    session.vctx.conn["ehlo_string"] = name
    session.vctx.conn["ehlo_domain"] = name.split()[0]
    code = session.run_phase("ehlo", name)
    if code is not None and code.code >= 400:
        session.reply_with(code)
        return
    session.helo = name.split()[0]
    session.esmtp = esmtp
    session.state = "greeted"
    verb = "EHLO" if esmtp else "HELO"
    first = f"{session.settings.banner_name} says {verb} to {session.peer_ip}:{session.peer_port}"
    if esmtp:
        from .session import ehlo_capabilities
        session.reply_with(Reply(250, None, "\n".join([first] + ehlo_capabilities(session))))
    else:
        session.reply_with(Reply(250, None, first))


def do_ehlo(session: "Session", arg: str) -> None:
    do_helo(session, arg, esmtp=True)


def _greeted_for_mail(session: "Session") -> bool:
    if session.helo is None and session.settings.require_ehlo:
        session.reply_with(replies.EHLO_REQUIRED)
        return False
    return True


def do_mail(session: "Session", arg: str) -> None:
    settings = session.settings
    if not _greeted_for_mail(session):
        return
    if session.state in ("mail", "rcpt"):
        session.reply_with(replies.NESTED_MAIL)
        return
    if settings.max_receptions_per_connection and \
            session.messages_accepted >= settings.max_receptions_per_connection:
        session.close(replies.MESSAGE_LIMIT)
        return
    service = session.service
    if service is not None and getattr(service, "reconfiguring", False):
        session.reply_with(replies.parse_code_text(451, settings.reconfig_message))
        return
    try:
        path = parse_path_command(arg, "FROM", pedantic=settings.rfc2821_pedantic_address_rules,
                                  allow_whitespace=settings.rfc2821_allow_whitespace_in_envelope)
        if path.params and not session.esmtp:
            raise CommandError(replies.PARAM_UNKNOWN)
        params = mail_params(path.params, max_size=settings.max_message_size)
    except CommandError as exc:
        session.reply_with(exc.reply)
        return
    box = path.mailbox
    if box is None and not settings.allow_null_envelope_sender:
        session.reply_with(replies.NULL_SENDER_REFUSED)
        return
    if box is not None:
        if box.is_ip_literal and not settings.allow_ip_literal:
            session.reply_with(replies.IP_LITERAL_REFUSED)
            return
        if not box.is_ascii and not params.smtputf8:
            session.reply_with(replies.NON_ASCII_NEEDS_SMTPUTF8)
            return
    throttle = getattr(service, "throttle", None)
    if throttle is not None and not throttle.allow(session.peer_ip, settings.inbound_throttle_messages):
        session.reply_with(replies.THROTTLED)
        return
    session.vctx.reset_message()
    mess = session.vctx.mess
    mess["mailfrom_string"] = f"MAIL {arg}"
    mess["mailfrom_localpart"] = box.local if box else ""
    mess["mailfrom_domain"] = box.domain if box else ""
    mess["message_rcpt_count"] = "0"
    if params.body == "8BITMIME":
        mess["#8bitmime"] = "true"
    code = session.run_phase("mailfrom", mess["mailfrom_string"])
    if code is not None and code.code >= 400:
        session.vctx.reset_message()
        session.reply_with(code)
        return
    session.mail_from = box
    session.mail_params = params
    session.recipients = []
    session.state = "mail"
    session.reply_with(code or replies.MAIL_OK)


def do_rcpt(session: "Session", arg: str) -> None:
    settings = session.settings
    if session.state not in ("mail", "rcpt"):
        session.reply_with(replies.MAIL_FIRST)
        return
    if settings.max_recipients_per_message and \
            len(session.recipients) >= settings.max_recipients_per_message:
        session.reply_with(replies.RCPT_LIMIT)
        return
    try:
        path = parse_path_command(arg, "TO", pedantic=settings.rfc2821_pedantic_address_rules,
                                  allow_whitespace=settings.rfc2821_allow_whitespace_in_envelope,
                                  is_rcpt=True)
        if path.params and not session.esmtp:
            raise CommandError(replies.PARAM_UNKNOWN)
        params = rcpt_params(path.params)
    except CommandError as exc:
        session.reply_with(exc.reply)
        return
    box = path.mailbox
    assert box is not None  # the null path is refused for RCPT by the parser
    if not box.is_ascii and not session.mail_params.smtputf8:
        session.reply_with(replies.NON_ASCII_NEEDS_SMTPUTF8)
        return
    if box.is_ip_literal and not settings.allow_ip_literal:
        session.reply_with(replies.IP_LITERAL_REFUSED)
        return
    decision = relay.relay_decision(
        rcpt_domain=box.domain_lower, peer_ip=session.peer_ip, open_relay=settings.open_relay,
        relay_hosts=settings.relay_hosts, relay_domains=settings.relay_domains,
        authenticated=session.authenticated_user is not None,
        can_relay=session.vctx.conn.get("can_relay", "").lower() == "true")
    if not decision.allowed:
        session.reply_with(replies.RELAYING_DENIED)
        return
    recipient = Recipient(box.address, ",".join(params.notify) if params.notify else None, params.orcpt)
    mess = session.vctx.mess
    mess["rcptto_string"] = f"RCPT {arg}"
    mess["rcptto_localpart"] = box.local
    mess["rcptto_domain"] = box.domain
    code = session.run_phase("rcptto", mess["rcptto_string"], recipient)
    if code is not None and code.code >= 400:
        session.reply_with(code)
        return
    session.recipients.append(recipient)
    session.vctx.recipients.append(recipient)
    session.state = "rcpt"
    _count(session, "mess", "message_rcpt_count")
    _count(session, "conn", "connection_rcpt_count")
    session.reply_with(code or replies.RCPT_OK)


def rcptto_list_refusal(session: "Session") -> Reply | None:
    """Run the ``rcptto_list`` phase (all recipients at once, before 354 / the first
    BDAT chunk); a 4xx/5xx code set there refuses the message and ends the transaction."""
    code = session.run_phase("rcptto_list", list(session.recipients))
    if code is None or code.code < 400:
        return None
    session.reset_transaction()
    return code


def do_data(session: "Session", arg: str) -> None:
    if not _syntax_only_no_arg(session, arg, "DATA"):
        return
    if session.state == "mail":
        session.reply_with(replies.DATA_WITHOUT_RCPT)
        return
    if session.state != "rcpt":
        session.reply_with(replies.MAIL_FIRST)
        return
    refusal = rcptto_list_refusal(session)
    if refusal is not None:
        session.reply_with(refusal)
        return
    session.reply_with(replies.DATA_GO)
    session.flush()
    chunks, reader = session.read_data()
    session.accept_message(chunks, lone_lf_seen=bool(reader.saw_lone_lf or reader.saw_lone_cr),
                           oversized=bool(reader.oversized), long_line=bool(reader.long_line))


def do_rset(session: "Session", arg: str) -> None:
    if _syntax_only_no_arg(session, arg, "RSET"):
        session.reset_transaction()
        session.reply_with(replies.RSET_OK)


def do_noop(session: "Session", arg: str) -> None:
    session.reply_with(replies.NOOP_OK)


def do_quit(session: "Session", arg: str) -> None:
    if _syntax_only_no_arg(session, arg, "QUIT"):
        session.close(Reply(221, "2.3.0", f"{session.settings.banner_name} closing connection"))


def do_vrfy(session: "Session", arg: str) -> None:
    if not arg.strip():
        session.reply(501, "5.5.4", "VRFY requires an argument")
    else:
        session.reply_with(replies.VRFY_NO_DISCLOSURE)


def do_expn(session: "Session", arg: str) -> None:
    if not arg.strip():
        session.reply(501, "5.5.4", "EXPN requires an argument")
    else:
        session.reply_with(replies.EXPN_NO_DISCLOSURE)


def do_help(session: "Session", arg: str) -> None:
    session.reply_with(replies.HELP)


def register_builtin_verbs() -> None:
    from .session import register_verb
    for verb, handler in (("HELO", do_helo), ("EHLO", do_ehlo), ("MAIL", do_mail),
                          ("RCPT", do_rcpt), ("DATA", do_data), ("RSET", do_rset),
                          ("NOOP", do_noop), ("QUIT", do_quit), ("VRFY", do_vrfy),
                          ("EXPN", do_expn), ("HELP", do_help)):
        register_verb(verb, handler)


register_builtin_verbs()
