"""``message_expiration`` ends a message whatever queue it sits in: one that keeps
getting 4xx (delayed queue) and one never attempted (suspended domain) both fail on
time with ``554 5.4.7 ... exceeded max time`` and a DSN to their sender."""
from __future__ import annotations

import email
import email.policy
import time

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

EXPIRY = 3


def _status(dsn_bytes: bytes):
    report = email.message_from_bytes(dsn_bytes, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    return report.get_payload()[1].get_payload()[1]


def test_delayed_and_suspended_messages_expire_with_a_dsn(tmp_path):
    domains = {"a.test": ["127.0.0.2"], "e.test": ["127.0.0.4"], "b.test": ["127.0.0.3"]}
    with relay_world(tmp_path, domains=domains, rcpt_default="451 4.2.1 come back later") as world:
        world.sink("127.0.0.3").rcpt_default = "250 2.1.5 ok"   # the sender's domain accepts DSNs
        daemon = world.start_daemon(f"message_expiration = {EXPIRY}\nmax_retries = none\n"
                                    'Domain "e.test" { suspend_delivery = true }\n')
        started = time.monotonic()
        world.send("s@b.test", ["x@a.test"], make_body("exp-delayed"))
        world.send("s@b.test", ["y@e.test"], make_body("exp-suspended"))
        sink_a, sink_e, sink_b = (world.sink(ip) for ip in ("127.0.0.2", "127.0.0.4", "127.0.0.3"))
        wait_until(lambda: len(sink_b.messages) == 2, timeout=EXPIRY + 5, daemon=daemon,
                   what="two expiry DSNs")
        elapsed = time.monotonic() - started
        assert EXPIRY - 0.5 <= elapsed <= EXPIRY + 3
        statuses = {_status(m.body)["Final-Recipient"]: _status(m.body) for m in sink_b.messages}
        assert set(statuses) == {"rfc822; x@a.test", "rfc822; y@e.test"}
        for fields in statuses.values():
            assert fields["Status"] == "5.4.7" and fields["Action"] == "failed"
            assert "exceeded max time" in fields["Diagnostic-Code"]
        assert sink_a.commands.count("RCPT TO:<x@a.test>") >= 2   # it was retried meanwhile
        assert sink_e.connections == 0                            # suspended: never attempted
