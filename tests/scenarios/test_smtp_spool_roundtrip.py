"""A message accepted over SMTP is in the spool byte-exact (apart from the added trace/ID headers)."""
from __future__ import annotations

import hashlib
import re
import smtplib


from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener { Listen "127.0.0.1:0" { } }
"""

BODY = (b"From: Alice <alice@b.org>\r\nTo: x@example.com\r\nSubject: round trip\r\n"
        b"Message-ID: <given@b.org>\r\nDate: Thu, 24 Sep 2015 13:40:03 -0700\r\n\r\n"
        + b"".join(b"line %d \xc3\xa9 with trailing space \r\n" % i for i in range(300))
        + b".starts with a dot\r\n..two dots\r\n\r\nlast line without newline")


def test_smtplib_message_is_spooled_byte_exact(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        with smtplib.SMTP("127.0.0.1", lst.port) as s:
            s.ehlo("client.test")
            s.mail("sender@b.org", ["BODY=8BITMIME", "RET=HDRS", "ENVID=abc+2Bdef"])
            s.rcpt("x@example.com", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;x@example.com"])
            s.rcpt("y@example.com", ["NOTIFY=NEVER"])
            code, text = s.data(BODY)
        assert code == 250
        reply_id = text.decode().split()[-1]
    [(env, data, rcpts)] = read_spool(lst.spool_dir)
    assert rcpts == ["x@example.com", "y@example.com"]
    assert env["mail_from"] == "sender@b.org"
    assert (env["ret"], env["envid"], env["body_type"]) == ("HDRS", "abc+2Bdef", "8BITMIME")
    assert env["recipients"][0] == {"address": "x@example.com", "notify": "SUCCESS,FAILURE",
                                    "orcpt": "rfc822;x@example.com"}
    assert env["recipients"][1]["notify"] == "NEVER"
    assert env["helo"] == "client.test" and env["peer_ip"] == "127.0.0.1"
    assert env["mess_context"]["mailfrom_domain"] == "b.org"
    assert env["conn_context"]["ehlo_domain"] == "client.test"
    # exactly one Received: trace header first, then the client's bytes (smtplib adds the final CRLF)
    assert data.startswith(b"Received: from client.test (127.0.0.1 [127.0.0.1])\r\n\tby ")
    received_end = data.index(b"\r\n", data.index(b"\r\n\t", data.index(b"\r\n\t") + 1) + 1) + 2
    assert env["batch_id"] == reply_id
    assert b" with ESMTP id " in data[:received_end]
    sent = BODY + b"\r\n"
    assert hashlib.sha256(data[received_end:]).hexdigest() == hashlib.sha256(sent).hexdigest()


def test_missing_message_id_and_date_are_added(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("HELO old.client")
        c.cmd("MAIL FROM:<a@b.org>")
        c.cmd("RCPT TO:<x@example.com>")
        c.cmd("DATA")
        c.send(b"From: a@b.org\r\nSubject: bare\r\n\r\nbody\r\n.\r\n")
        reply = c.read_reply()
        assert reply.code == 250
        c.close()
    [(_env, data, _)] = read_spool(lst.spool_dir)
    assert b" with SMTP id " in data  # HELO, not EHLO
    head, _, body = data.partition(b"\r\n\r\n")
    assert body == b"body\r\n"
    msgid = re.search(rb" id (\S+);", head).group(1).decode()
    local = msgid.replace("/", ".").replace("-", ".")
    assert re.search(rb"\r\nMessage-ID: <" + re.escape(local.encode()) + rb"@[^>]+>(\r\n|$)", head)
    assert re.search(rb"\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", head)
    assert head.index(b"Subject: bare") < head.index(b"Message-ID:")


def test_smtputf8_address_accepted_and_stored(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        c = RawClient(lst.port)
        c.read_reply()
        c.cmd("EHLO client.test")
        assert c.cmd("MAIL FROM:<jörg@bücher.example> SMTPUTF8").code == 250
        assert c.cmd("RCPT TO:<δοκιμή@example.com>").code == 250
        c.cmd("DATA")
        c.send("From: jörg@bücher.example\r\n\r\nhallo\r\n.\r\n".encode())
        assert c.read_reply().code == 250
        c.close()
    [(env, data, rcpts)] = read_spool(lst.spool_dir)
    assert env["mail_from"] == "jörg@bücher.example" and env["smtputf8"] is True
    assert rcpts == ["δοκιμή@example.com"]
    assert b" with UTF8SMTP id " in data


def test_received_id_is_the_reply_id(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        with smtplib.SMTP("127.0.0.1", lst.port) as s:
            s.ehlo("client.test")
            s.mail("sender@b.org")
            s.rcpt("x@example.com")
            code, text = s.data(b"From: a@b.org\r\n\r\nhi\r\n")
        reply_id = text.decode().split()[-1]
    [(_env, data, _)] = read_spool(lst.spool_dir)
    assert f" with ESMTP id {reply_id};".encode() in data
