"""Scenario: ``counter`` and ``cache`` console commands against a running daemon that delivered
real mail to a sink: the counters equal what was injected, a reset zeroes them.
"""
from __future__ import annotations

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.test_console_queue import as_json, inject, wait_for

CONF = """
relay_hosts = ( "127.0.0.0/8" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "fast.test" {{ gateway = "127.0.0.3:{fast}" }}
"""


def test_counters_follow_delivered_mail_and_reset(tmp_path):
    port = free_port()
    with SmtpSink("127.0.0.3") as fast, start_daemon(CONF.format(port=port, fast=fast.port), tmp_path) as daemon:
        inject(port, [f"r{i}@fast.test" for i in range(4)])
        wait_for("4 deliveries", lambda: as_json(daemon, "counter list global.delivered")
                 == {"global.delivered": 4})
        counters = as_json(daemon, "counter")
        assert counters["global.received"] == 4
        assert counters["domain.fast.test.delivered"] == 4
        assert counters["binding.default.delivered"] == 4
        assert counters["global.failed"] == 0
        text = daemon.command("counter list domain.fast.test.*")
        assert text.ok and [line.split()[0] for line in text.body] == [
            f"domain.fast.test.{k}" for k in ("received", "delivered", "failed", "transient", "rejected")]

        assert daemon.command("counter reset domain.fast.test.delivered").ok
        assert as_json(daemon, "counter list domain.fast.test.delivered") == {"domain.fast.test.delivered": 0}
        assert as_json(daemon, "counter list global.delivered") == {"global.delivered": 4}
        missing = daemon.command("counter reset domain.nowhere.test.delivered")
        assert (missing.status, missing.text) == (
            404, "counter: no resettable counter 'domain.nowhere.test.delivered' (see 'counter list')")
        assert daemon.command("counter reset").ok
        assert as_json(daemon, "counter list global.*")["global.received"] == 0
        assert daemon.command("counter bogus").status == 400

        caches = as_json(daemon, "cache list")
        assert set(caches) >= {"pcre", "sieve_scripts", "tls_server_contexts", "dns"}
        assert caches["sieve_scripts"]["max_entries"] > 0
        listing = daemon.command("cache list")
        assert listing.body[0].split() == ["Name", "Entries", "Max", "Holds"]
        one = daemon.command("cache stat dns")
        assert one.ok and one.body[0] == "Cache dns:"
        assert daemon.command("cache stat nosuch").status == 404
        assert daemon.command("cache stats").body.count("Cache pcre:") == 1
