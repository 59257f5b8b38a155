"""``spool import`` on a real daemon, then SIGKILL and a restart before delivery.

The source spool (written offline with the real Spool class) holds a message received
an hour ago. The daemon imports it while its gateway is down: the importlog gets
Momentum's ``ts@old-id@I@new-id@1@source`` line, and ``message details`` shows the
original creation time. The daemon is killed with SIGKILL; after the restart the
message still has its original creation time (expiry counts from the original
reception, not from the import) and, once the gateway is up, is delivered once.
"""
from __future__ import annotations

import json
import time

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.log.records import split_at_record
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.delivery_harness import settle, wait_until

CONF = """
retry_interval = 1
max_retry_interval = 1
Domain "one.test" {{ gateway = "127.0.0.2:{port}" }}
ec_logger "ec_logger" {{ importlog = "{importlog}"  heartbeat = 0 }}
"""
BODY = b"From: s@src.test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: aged\r\n\r\naged\r\n"


def write_source(path, received: float) -> tuple[str, float]:
    """One live message whose creation time is ``received`` (as an older host left it)."""
    spool = Spool(str(path), fsync=False)
    try:
        envelope = Envelope(mail_from="s@src.test", recipients=[Recipient("a@one.test")],
                            peer_ip="192.0.2.1", protocol="esmtp")
        template = spool.store(envelope, BODY).messages[0]
        spool.remove(template)
        template.created = received
        [message] = spool.store(Envelope.from_dict(envelope.to_dict()), BODY,
                                carried=[template]).messages
        return message.id, message.created
    finally:
        spool.close()


def console_json(daemon, line: str):
    reply = daemon.command(f"{line} --json")
    assert reply.status == 200, (line, reply.status, reply.body)
    return json.loads("\n".join(reply.body))


def queued_details(daemon) -> dict:
    found: dict = {}

    def ready() -> bool:
        rows = console_json(daemon, "showqueue one.test")
        if not rows or rows[0]["state"] == "in_flight":
            return False
        found.update(console_json(daemon, f"message details {rows[0]['id']}"))
        return True
    wait_until(ready, daemon=daemon, what="the imported message in the queue")
    return found


def test_imported_creation_time_survives_kill_9_and_the_importlog_says_so(tmp_path):
    source, importlog = tmp_path / "oldspool", tmp_path / "log" / "importlog.ec"
    received = time.time() - 3600
    old_id, created = write_source(source, received)
    port = free_port("127.0.0.2")
    conf = CONF.format(port=port, importlog=importlog)
    daemon = start_daemon(conf, tmp_path / "d")
    try:
        assert daemon.console("spool", "import", str(source)).returncode == 0
        wait_until(lambda: console_json(daemon, "spool import_poll")["state"] != "running",
                   daemon=daemon, what="the import")
        assert console_json(daemon, "spool import_poll")["imported"] == 1
        before = queued_details(daemon)
        assert before["created"] == created and before["id"] != ""
        wait_until(lambda: importlog.exists() and importlog.read_text().endswith("\n"),
                   daemon=daemon, what="the importlog line")
        [line] = importlog.read_text().splitlines()
        ts, original, kind, new_id, result, where = split_at_record(line)
        assert (original, kind, new_id, result, where) == (old_id, "I", before["id"], "1", str(source))
        assert abs(int(ts) - time.time()) < 60
        daemon.kill()
    finally:
        daemon.kill()

    sink = SmtpSink("127.0.0.2", port=port).start()
    daemon = start_daemon(conf, tmp_path / "d")
    try:
        wait_until(lambda: len(sink.messages) == 1, timeout=15, daemon=daemon,
                   what="delivery after the restart")
        settle(1.2)   # > retry_interval: a second copy would show by now
        assert [m.rcpts for m in sink.messages] == [["a@one.test"]]
        # the mainlog D line's age is counted from the original reception, not the import
        mainlog = (tmp_path / "d" / "var" / "log" / "mainlog.ec")
        wait_until(lambda: mainlog.exists() and "@D@" in mainlog.read_text(), daemon=daemon,
                   what="the mainlog D line")
        [delivered] = [split_at_record(x) for x in mainlog.read_text().splitlines() if "@D@" in x]
        assert float(delivered[10]) >= 3600
    finally:
        daemon.kill()
        sink.stop()
