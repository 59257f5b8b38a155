"""LMTP delivery (delivery_method = LMTP, lmtp_port) through the engine, against a real
Dovecot LMTP server (tests/helpers/dovecot_lmtp.py) and a scripted one for a connection
lost between the per-recipient replies (RFC 2033 §4.2)."""
from __future__ import annotations

import socket
import threading


from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.delivery import client as stages
from ecelerity.delivery.dns import DnsResolver
from ecelerity.delivery.engine import DeliveryEngine
from tests.helpers.dovecot_lmtp import start_dovecot_lmtp

BODY = b"Subject: lmtp\r\n\r\n" + b"a line of text in the body\r\n" * 40


def engine_for(spool, port: int, extra: str = "") -> DeliveryEngine:
    cfg = load_config_text(
        f'delivery_method = LMTP\nlmtp_port = {port}\ngateway = "127.0.0.1"\n'
        "connect_timeout = 3\nehlo_timeout = 3\nmailfrom_timeout = 3\nrcptto_timeout = 3\n"
        f'body_timeout = 3\nrset_timeout = 3\nehlo_hostname = "out.example"\n{extra}')
    # the gateway is an IP: the resolver is never asked
    return DeliveryEngine(lambda: cfg, spool, dns=DnsResolver(nameservers=[]))


def store(spool, *addresses):
    return spool.store(Envelope("sender@src.test", [Recipient(a) for a in addresses]), BODY).messages


def test_dovecot_per_recipient_replies_after_data(spool):
    with start_dovecot_lmtp({"alice": None, "bob": 100, "carol": None}) as server:
        engine = engine_for(spool, server.port)
        messages = store(spool, "alice@mail.test", "bob@mail.test", "nobody@mail.test",
                         "carol@mail.test")
        results = engine.deliver("default", "mail.test", messages)
        engine.close()
        alice, carol, bob = server.delivered("alice"), server.delivered("carol"), server.delivered("bob")
    summary = [(r.outcome, r.code, r.enhanced, r.stage) for r in results]
    assert summary == [("delivered", 250, "2.0.0", stages.CONFIRMATION),
                       ("permanent", 552, "5.2.2", stages.CONFIRMATION),   # over quota, after DATA
                       ("permanent", 550, "5.1.1", stages.RCPT),          # unknown user
                       ("delivered", 250, "2.0.0", stages.CONFIRMATION)]
    assert "alice@mail.test" in results[0].text and "carol@mail.test" in results[3].text
    assert len(alice) == 1 and len(carol) == 1 and bob == []
    lf_body = BODY.replace(b"\r\n", b"\n")   # maildir keeps LF line ends
    assert alice[0].endswith(lf_body) and carol[0].endswith(lf_body)
    assert b"Return-Path: <sender@src.test>" in alice[0]
    assert results[0].conn_id == results[1].conn_id == results[3].conn_id


def test_dovecot_connection_is_reused_for_a_second_lmtp_transaction(spool):
    with start_dovecot_lmtp({"alice": None}) as server:
        engine = engine_for(spool, server.port)
        first = engine.deliver("default", "mail.test", store(spool, "alice@mail.test"))
        second = engine.deliver("default", "mail.test", store(spool, "alice@mail.test"))
        engine.close()
        saved = server.delivered("alice")
    assert [r.outcome for r in first + second] == ["delivered", "delivered"]
    assert engine.connections_opened == 1 and first[0].conn_id == second[0].conn_id
    assert len(saved) == 2


class ScriptedLmtp:
    """Accepts every RCPT, answers the first recipient after the body, then hangs up."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.commands: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 scripted LMTP\r\n")
            rcpts = 0
            for raw in reader:
                line = raw.decode().rstrip("\r\n")
                self.commands.append(line.split(" ")[0].upper())
                verb = self.commands[-1]
                if verb == "LHLO":
                    conn.sendall(b"250-scripted\r\n250 PIPELINING\r\n")
                elif verb == "RCPT":
                    rcpts += 1
                    conn.sendall(b"250 2.1.5 ok\r\n")
                elif verb == "DATA":
                    conn.sendall(b"354 go\r\n")
                    for body_line in reader:
                        if body_line == b".\r\n":
                            break
                    conn.sendall(b"250 2.0.0 first saved\r\n")
                    return  # connection lost before the other recipients' replies
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")

    def close(self) -> None:
        self.listener.close()


def test_connection_lost_between_lmtp_replies_keeps_the_first_and_retries_the_rest(spool):
    server = ScriptedLmtp()
    try:
        engine = engine_for(spool, server.port)
        results = engine.deliver("default", "mail.test", store(spool, "a@mail.test", "b@mail.test",
                                                               "c@mail.test"))
        engine.close()
    finally:
        server.close()
    assert server.commands[0] == "LHLO" and "EHLO" not in server.commands
    assert [r.outcome for r in results] == ["delivered", "transient", "transient"]
    assert results[0].text == "first saved" and results[1].code == 451
    assert engine.pool.idle_count() == 0  # the lost connection is not parked
