"""ecelerity/delivery/client.py: RFC 2920 pipelining of [RSET] MAIL RCPT... DATA.

A real loopback server (gevent StreamServer) that answers nothing of a command group
until it has read the group's last command (DATA): a client that waited for a reply
before sending the next command would hang there and time out.
"""
from __future__ import annotations

import gevent
import pytest
from gevent.server import StreamServer

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery import client as stages
from ecelerity.delivery.client import ClientSettings, SmtpClient, SmtpFailure

BODY = b"Subject: t\r\n\r\nhello\r\n"


class GroupServer:
    """Answers a whole command group only once it ends with DATA; records the groups."""

    def __init__(self, *, refuse_rcpt: bool = False, refuse_mail: bool = False,
                 data_reply_without_rcpt: bytes = b"554 5.5.1 no valid recipients\r\n",
                 close_at_first_rcpt: bool = False) -> None:
        self.refuse_rcpt, self.refuse_mail = refuse_rcpt, refuse_mail
        self.close_at_first_rcpt = close_at_first_rcpt  # 421 to the first RCPT, then hang up
        self.data_reply_without_rcpt = data_reply_without_rcpt
        self.hang_up_after_delivery = False
        self.groups: list[list[bytes]] = []
        self.bodies: list[bytes] = []
        self.server = StreamServer(("127.0.0.1", 0), self._handle)

    def __enter__(self) -> GroupServer:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop(timeout=1)

    @property
    def port(self) -> int:
        return self.server.server_port

    def _handle(self, sock, _address) -> None:
        reader = sock.makefile("rb")
        sock.sendall(b"220 test ESMTP\r\n")
        reader.readline()
        sock.sendall(b"250-test\r\n250 PIPELINING\r\n")
        while True:
            group: list[bytes] = []
            while True:   # nothing is answered before the group's last command
                line = reader.readline()
                if not line:
                    return
                group.append(line.rstrip(b"\r\n"))
                if line.upper().startswith((b"DATA", b"QUIT")):
                    break
            self.groups.append(group)
            answers, accepted = [], 0
            for command in group:
                verb = command[:4].upper()
                if verb == b"RSET":
                    answers.append(b"250 2.0.0 ok\r\n")
                elif verb == b"MAIL":
                    answers.append(b"550 5.7.1 no\r\n" if self.refuse_mail else b"250 2.1.0 ok\r\n")
                elif verb == b"RCPT" and self.close_at_first_rcpt:
                    sock.sendall(b"".join(answers) + b"421 4.3.2 shutting down\r\n")
                    sock.close()
                    return
                elif verb == b"RCPT":
                    ok = not self.refuse_rcpt and not self.refuse_mail
                    accepted += ok
                    answers.append(b"250 2.1.5 ok\r\n" if ok else b"550 5.1.1 unknown\r\n")
                elif verb == b"QUIT":
                    sock.sendall(b"221 bye\r\n")
                    return
            if accepted:
                answers.append(b"354 go ahead\r\n")
            else:
                answers.append(self.data_reply_without_rcpt)
            sock.sendall(b"".join(answers))
            if accepted or self.data_reply_without_rcpt.startswith(b"354"):
                body = b""
                while not body.endswith(b"\r\n.\r\n") and body != b".\r\n":
                    chunk = reader.readline()
                    if not chunk:
                        return
                    body += chunk
                self.bodies.append(body)
                sock.sendall(b"250 2.0.0 queued\r\n" if accepted else b"554 5.5.1 no recipients\r\n")
                if self.hang_up_after_delivery:
                    sock.close()   # an idle timeout at the peer, as the client sees it
                    return


def connect(server: GroupServer) -> SmtpClient:
    timeouts = {name: 2 for name in ("connect_timeout", "ehlo_timeout", "mailfrom_timeout",
                                     "rcptto_timeout", "body_timeout", "rset_timeout")}
    client = SmtpClient("127.0.0.1", server.port, ClientSettings(**timeouts))
    client.open()
    return client


ENVELOPE = Envelope("s@src.test", [Recipient("a@dst.test"), Recipient("b@dst.test")])


def test_rset_mail_rcpts_and_data_go_in_one_group_and_both_transactions_deliver():
    with GroupServer() as server:
        client = connect(server)
        first = client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        second = client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        client.quit()
    assert [t.data_reply.code for t in (first, second)] == [250, 250]
    assert [len(g) for g in server.groups[:2]] == [4, 5]   # MAIL 2xRCPT DATA; RSET + those
    assert server.groups[1][0] == b"RSET" and server.groups[1][-1] == b"DATA"
    assert server.bodies == [BODY + b".\r\n"] * 2
    assert client.deliveries == 4


def test_all_recipients_refused_then_354_anyway_ends_the_data_empty_and_keeps_the_connection():
    with GroupServer(refuse_rcpt=True, data_reply_without_rcpt=b"354 go ahead\r\n") as server:
        client = connect(server)
        refused = client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        assert refused.data_stage == stages.RCPT and refused.data_reply is None
        assert [r.code for r in refused.rcpt_replies] == [550, 550]
        assert server.bodies == [b".\r\n"]          # no message content was sent
        server.refuse_rcpt = False
        again = client.send(ENVELOPE, ENVELOPE.recipients, BODY)   # still in step
        client.quit()
    assert again.data_reply.code == 250 and server.bodies[-1] == BODY + b".\r\n"


def test_all_recipients_refused_and_data_refused_returns_rcpt_results():
    with GroupServer(refuse_rcpt=True) as server:
        client = connect(server)
        refused = client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        server.refuse_rcpt = False
        again = client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        client.quit()
    assert refused.data_stage == stages.RCPT and server.bodies == [BODY + b".\r\n"]
    assert again.data_reply.code == 250


def test_mail_refused_is_a_transaction_failure_at_the_mail_stage():
    with GroupServer(refuse_mail=True) as server:
        client = connect(server)
        with pytest.raises(SmtpFailure) as caught:
            client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        client.close()
    assert caught.value.stage == stages.MAIL and caught.value.reply.code == 550


def test_a_reused_connection_the_peer_closed_fails_at_rset_so_the_engine_can_go_fresh():
    with GroupServer() as server:
        server.hang_up_after_delivery = True
        client = connect(server)
        client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        gevent.sleep(0.05)
        with pytest.raises(SmtpFailure) as caught:
            client.send(ENVELOPE, ENVELOPE.recipients, BODY)
    assert caught.value.stage == stages.RSET and caught.value.reply.code < 500


def test_a_421_to_a_pipelined_rcpt_then_hang_up_fails_with_the_421_not_connection_closed():
    """The peer's own words (421 4.3.2) must reach the queue's last_error and the logs."""
    with GroupServer(close_at_first_rcpt=True) as server:
        client = connect(server)
        with pytest.raises(SmtpFailure) as caught:
            client.send(ENVELOPE, ENVELOPE.recipients, BODY)
        client.close()
    assert caught.value.stage == stages.RCPT
    assert (caught.value.reply.code, caught.value.reply.enhanced) == (421, "4.3.2")
