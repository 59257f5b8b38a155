"""Scenario: ``config set`` changes a live daemon's behaviour without a restart.

The sink never answers the end of DATA, so every delivery connection stays open and the
sink's high-water mark of concurrent connections is exactly what the daemon allows:
2 with ``max_outbound_connections = 2`` for the domain, 5 right after ``config set``
raised it. A bad value is refused with the validator's message (ec_console exits 1).
"""
from __future__ import annotations

import smtplib
import time

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink

CONF = """
relay_hosts = ( "127.0.0.0/8" )
max_deliveries_per_connection = 1
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "conc.test" {{ gateway = "127.0.0.2:{sink}" max_outbound_connections = 2 }}
"""


def wait_for(what, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_config_set_changes_outbound_concurrency_live(tmp_path):
    port = free_port()
    sink = SmtpSink("127.0.0.2", hang_at="dot").start()
    try:
        with start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as daemon:
            assert daemon.command("summary").status != 404, \
                "daemon/app.py does not register the console commands (commands_all.py) yet"
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                for i in range(8):
                    client.sendmail("s@src.test", [f"r{i}@conc.test"], f"From: s@src.test\r\nSubject: {i}\r\n\r\nx\r\n")
            wait_for("2 connections", lambda: sink.connections >= 2)
            time.sleep(0.5)  # had the limit not held, more connections would be open by now
            assert (sink.connections, sink.max_concurrent) == (2, 2)

            bad = daemon.console("config", "set", "Domain", "conc.test", "max_outbound_connections", "many")
            assert bad.returncode == 1
            assert bad.stderr == ("ec_console: 400 config: option 'max_outbound_connections': "
                                  "expected an integer >= 0, got 'many'\n")
            good = daemon.console("config set Domain conc.test max_outbound_connections 5")
            assert (good.returncode, good.stdout) == (0, "max_outbound_connections = 5 in domain:conc.test\n")
            wait_for("5 concurrent connections", lambda: sink.max_concurrent >= 5)
            time.sleep(0.3)
            assert sink.max_concurrent == 5
            eval_reply = daemon.command("config eval Domain conc.test max_outbound_connections")
            assert eval_reply.body == ["max_outbound_connections = 5"]
            sink.stop()  # drop the hung connections so the daemon stops promptly
            assert daemon.stop() == 0
    finally:
        sink.stop()
