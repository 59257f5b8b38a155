"""Scenario: ``spool import`` on a running daemon delivers the mail of another spool.

A spool directory is written offline with the real Spool class (as an old host or a
crashed second instance would leave it): 4 live messages to two domains, one already
delivered. The daemon imports it from the console, ``spool import_poll`` reports
4 of 4, and the sinks receive exactly those 4 bodies; the source is left untouched.
"""
from __future__ import annotations

import json
import time

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from tests.helpers.daemon import start_daemon
from tests.helpers.sink import SmtpSink

CONF = """
Domain "one.test" {{ gateway = "127.0.0.2:{one}" }}
Domain "two.test" {{ gateway = "127.0.0.3:{two}" }}
"""


def body(tag: str) -> bytes:
    return f"From: s@src.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: {tag}\r\n\r\n{tag}\r\n".encode()


def write_source(path) -> None:
    spool = Spool(str(path), fsync=False)
    try:
        spool.store(Envelope(mail_from="s@src.test", recipients=[Recipient("a@one.test"), Recipient("b@two.test")],
                             peer_ip="192.0.2.1", protocol="esmtp"), body("first"))
        done = spool.store(Envelope(mail_from="s@src.test",
                                    recipients=[Recipient("c@one.test"), Recipient("gone@one.test")],
                                    peer_ip="192.0.2.1", protocol="esmtp"), body("second"))
        spool.remove(done.messages[1])
        spool.store(Envelope(mail_from="s@src.test", recipients=[Recipient("d@two.test")],
                             peer_ip="192.0.2.1", protocol="esmtp"), body("third"))
    finally:
        spool.close()


def test_spool_import_delivers_the_other_spools_mail(tmp_path):
    source = tmp_path / "oldspool"
    write_source(source)
    one = SmtpSink("127.0.0.2").start()
    two = SmtpSink("127.0.0.3").start()
    try:
        with start_daemon(CONF.format(one=one.port, two=two.port), tmp_path / "d") as daemon:
            started = daemon.console("spool", "import", str(source))
            assert started.returncode == 0, started.stderr
            deadline = time.monotonic() + 15
            while True:
                poll = json.loads("\n".join(daemon.command("spool import_poll --json").body))
                if poll["state"] != "running" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert (poll["state"], poll["found"], poll["imported"], poll["failed"]) == ("done", 4, 4, 0)
            while len(one.messages) + len(two.messages) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            got_one = sorted((m.rcpts[0], m.body.split(b"\r\n\r\n", 1)[1]) for m in one.messages)
            got_two = sorted((m.rcpts[0], m.body.split(b"\r\n\r\n", 1)[1]) for m in two.messages)
            assert got_one == [("a@one.test", b"first\r\n"), ("c@one.test", b"second\r\n")]
            assert got_two == [("b@two.test", b"first\r\n"), ("d@two.test", b"third\r\n")]
            assert all(m.mail_from == "s@src.test" for m in one.messages + two.messages)
            again = daemon.console("spool", "import", str(tmp_path / "d" / "var" / "spool"))
            assert again.returncode == 1 and "own spool" in again.stderr
    finally:
        one.stop()
        two.stop()
    reread = Spool(str(source), fsync=False)  # the source still holds its 4 messages
    try:
        assert reread.load_all(repair=False).count == 4
    finally:
        reread.close()
