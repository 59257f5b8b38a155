"""A 5xx for one recipient fails that recipient only; its sender gets an RFC 3464 DSN
(multipart/report) delivered through DNS to the sender domain's own MX sink."""
from __future__ import annotations

import email
import email.policy

from tests.scenarios.delivery_harness import make_body, relay_world, wait_until

REFUSAL = "550 5.1.1 <bad@a.test>: no such user here"


def test_permanent_refusal_sends_a_multipart_report_to_the_sender(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"], "b.test": ["127.0.0.3"]},
                     rcpt_replies={"bad@a.test": REFUSAL}) as world:
        daemon = world.start_daemon('mailerdaemon = "postmaster@mta.test"\n')
        world.send("alice@b.test", ["good@a.test", "bad@a.test"], make_body("bounce-me"),
                   mail_options=("RET=HDRS", "ENVID=env-42"))
        sink_a, sink_b = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        wait_until(lambda: len(sink_b.messages) == 1, timeout=10, daemon=daemon, what="the DSN")
        assert [m.rcpts for m in sink_a.messages] == [["good@a.test"]]
        dsn = sink_b.messages[0]
        assert (dsn.mail_from, dsn.rcpts) == ("", ["alice@b.test"])
        report = email.message_from_bytes(dsn.body, policy=email.policy.default)
        assert report.get_content_type() == "multipart/report"
        assert report.get_param("report-type") == "delivery-status"
        assert report["From"].addresses[0].addr_spec == "postmaster@mta.test"
        assert report["To"].addresses[0].addr_spec == "alice@b.test"
        human, status, original = report.get_payload()
        assert human.get_content_type() == "text/plain" and "no such user" in human.get_content()
        assert status.get_content_type() == "message/delivery-status"
        per_message, per_recipient = status.get_payload()
        assert per_message["Reporting-MTA"] == "dns; mta.test"
        assert per_message["Original-Envelope-Id"] == "env-42"
        assert per_recipient["Final-Recipient"] == "rfc822; bad@a.test"
        assert per_recipient["Action"] == "failed"
        assert per_recipient["Status"] == "5.1.1"
        assert per_recipient["Remote-MTA"] == "dns; [127.0.0.2]"
        assert "no such user here" in per_recipient["Diagnostic-Code"]
        # RET=HDRS: the original's headers only
        assert original.get_content_type() == "text/rfc822-headers"
        assert "Message-ID: <bounce-me@b.test>" in original.get_content()
        assert "bounce-me line 0" not in original.get_content()
        assert not report.defects and not any(part.defects for part in report.walk())
