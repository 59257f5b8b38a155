"""Reply formatting and the standard reply table: smtp/replies.py."""
from __future__ import annotations

from ecelerity.smtp import replies
from ecelerity.smtp.replies import Reply, parse_code_text


def test_single_and_multiline_wire_format():
    assert Reply(250, "2.0.0", "ok").wire() == b"250 2.0.0 ok\r\n"
    assert Reply(250, None, "host\nPIPELINING\nSIZE").wire() == b"250-host\r\n250-PIPELINING\r\n250 SIZE\r\n"
    assert Reply(550, "5.7.1", "a\nb").wire() == b"550-5.7.1 a\r\n550 5.7.1 b\r\n"
    assert Reply(550, "5.7.1", "denied").wire(enhanced_codes=False) == b"550 denied\r\n"


def test_parse_code_text_splits_enhanced_code():
    assert parse_code_text(550, "5.7.1 go away") == Reply(550, "5.7.1", "go away")
    assert parse_code_text(451, "try later") == Reply(451, "4.0.0", "try later")
    assert parse_code_text(421, "4.7.0") == Reply(421, "4.7.0", "")


def test_momentum_strings_are_verbatim():
    # momentum-facts.md §2.9 and §5.5
    table = {
        replies.RELAYING_DENIED: "550 5.7.1 relaying denied",
        replies.SIZE_EXCEEDED: "552 5.3.4 message size limit exceeded",
        replies.CONCURRENCY_LIMIT: "421 4.4.5 Service unavailable, concurrency limit reached",
        replies.RCPT_LIMIT: "452 4.5.3 Service unavailable, recipients per message limit reached",
        replies.MISSING_HEADERS: "550 5.6.0 Required headers not found (see RFC2822 section 3.6)",
        replies.DATA_WITHOUT_RCPT: "503 5.5.1 DATA without RCPT TO",
        replies.RCPT_SYNTAX: "501 5.5.2 RCPT TO syntax error",
        replies.UNRECOGNIZED: "500 5.5.2 unrecognized command",
        replies.MAIL_OK: "250 2.0.0 MAIL FROM accepted",
        replies.RCPT_OK: "250 2.0.0 RCPT TO accepted",
        replies.DATA_GO: '354 3.0.0 continue.  finished with "\\r\\n.\\r\\n"',
        replies.SPOOL_FULL: "452 4.3.1 Insufficient system storage",
    }
    for reply, text in table.items():
        assert str(reply) == text
        assert reply.wire() == (text + "\r\n").encode()


def test_reply_classes():
    assert replies.MAIL_OK.is_positive and replies.SPOOL_FULL.is_transient
    assert replies.RELAYING_DENIED.is_permanent
    every = [v for v in vars(replies).values() if isinstance(v, Reply)]
    for reply in every:  # enhanced class always matches the reply class
        assert reply.enhanced is None or reply.enhanced[0] == str(reply.code)[0]
