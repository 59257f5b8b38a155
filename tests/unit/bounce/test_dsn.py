"""ecelerity/bounce/dsn.py: DSNs parsed back by Python's email package."""
from __future__ import annotations

import email
import email.policy

import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_records import SpooledMessage
from ecelerity.bounce.dsn import build_dsn
from ecelerity.delivery.engine import DeliveryResult

ORIGINAL = (b"From: a@src.test\r\nTo: b@dst.test\r\nSubject: original\r\n\r\n"
            b"secret body line\r\ncaf\xc3\xa9\r\n")
CFG = load_config_text('hostname = "mta.example"\n')


def message(mail_from="a@src.test", notify=None, orcpt=None, ret=None, envid=None) -> SpooledMessage:
    recipient = Recipient("b@dst.test", notify=notify, orcpt=orcpt)
    envelope = Envelope(mail_from, [recipient], ret=ret, envid=envid, received_at=1_700_000_000.0)
    return SpooledMessage(id="00/00-01234-ABCDEF12", batch_id="00/00-01234-ABCDEF11",
                          recipient=recipient, domain="dst.test", envelope=envelope,
                          created=1_700_000_000.0, size=len(ORIGINAL))


RESULT = DeliveryResult("00/00-01234-ABCDEF12", "permanent", 550, "5.1.1", "no such user", 4,
                        "127.0.0.2", 0, "00/00-01234-ABCDEF13")


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_failed_dsn_is_a_valid_multipart_report_with_every_field():
    envelope, data = build_dsn(message(orcpt="rfc822;B+2Bx@dst.test", envid="ENV1"), RESULT,
                               reason="550 5.1.1 no such user", cfg=CFG, body=ORIGINAL, now=1_700_000_100)
    assert envelope.mail_from == "" and [r.address for r in envelope.recipients] == ["a@src.test"]
    assert envelope.protocol == "internal"
    dsn = parse(data)
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert dsn["From"].addresses[0].addr_spec == "MAILER-DAEMON@mta.example"
    assert dsn["To"].addresses[0].addr_spec == "a@src.test" and dsn["Auto-Submitted"] == "auto-replied"
    human, status, original = dsn.get_payload()
    assert human.get_content_type() == "text/plain" and "no such user" in human.get_content()
    assert status.get_content_type() == "message/delivery-status"
    per_message, per_recipient = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; mta.example"
    assert per_message["Original-Envelope-Id"] == "ENV1"
    assert "14 Nov 2023" in per_message["Arrival-Date"]
    assert per_recipient["Final-Recipient"] == "rfc822; b@dst.test"
    assert per_recipient["Original-Recipient"] == "rfc822; B+x@dst.test"
    assert per_recipient["Action"] == "failed" and per_recipient["Status"] == "5.1.1"
    assert per_recipient["Remote-MTA"] == "dns; [127.0.0.2]"
    assert per_recipient["Diagnostic-Code"] == "smtp; 550 5.1.1 no such user"
    assert per_recipient["Last-Attempt-Date"]
    assert original.get_content_type() == "text/rfc822-headers"  # bounces_inline_original default
    assert b"Subject: original" in original.get_payload(decode=True)
    assert b"secret body line" not in data
    assert not dsn.defects and all(not part.defects for part in dsn.walk())


@pytest.mark.parametrize("ret, inline, expect_type, body_included", [
    (None, "all", "message/rfc822", True), ("FULL", "headers", "message/rfc822", True),
    ("HDRS", "all", "text/rfc822-headers", False), (None, "none", None, False),
])
def test_original_follows_ret_then_bounces_inline_original(ret, inline, expect_type, body_included):
    cfg = load_config_text(f'bounces_inline_original = "{inline}"\nmailerdaemon = "bounces@mta.example"\n')
    _, data = build_dsn(message(ret=ret), RESULT, reason="550 5.1.1 no such user", cfg=cfg, body=ORIGINAL)
    dsn = parse(data)
    parts = dsn.get_payload()
    assert dsn["From"].addresses[0].addr_spec == "bounces@mta.example"
    assert (b"secret body line" in data) is body_included
    if expect_type is None:
        assert len(parts) == 2
    else:
        assert parts[2].get_content_type() == expect_type
    if body_included:
        assert parts[2].get_payload()[0]["Subject"] == "original"


def test_no_dsn_for_null_sender_or_notify_never_or_generate_bounces_off():
    reason = "550 5.1.1 no such user"
    assert build_dsn(message(mail_from=""), RESULT, reason=reason, cfg=CFG, body=ORIGINAL) is None
    assert build_dsn(message(notify="NEVER"), RESULT, reason=reason, cfg=CFG, body=ORIGINAL) is None
    assert build_dsn(message(notify="DELAY"), RESULT, reason=reason, cfg=CFG, body=ORIGINAL) is None
    assert build_dsn(message(notify="SUCCESS,FAILURE"), RESULT, reason=reason, cfg=CFG,
                     body=ORIGINAL) is not None
    off = load_config_text("generate_bounces = false\n")
    assert build_dsn(message(), RESULT, reason=reason, cfg=off, body=ORIGINAL) is None


def test_delay_dsn_needs_generate_delay_dsn_and_says_delayed_with_retry_until():
    reason = "451 4.4.1 [internal] No valid hosts"
    assert build_dsn(message(), None, reason=reason, cfg=CFG, body=ORIGINAL, action="delayed") is None
    cfg = load_config_text("generate_delay_dsn = true\nmessage_expiration = 3600\n")
    _, data = build_dsn(message(), None, reason=reason, cfg=cfg, body=ORIGINAL, action="delayed")
    per_recipient = parse(data).get_payload()[1].get_payload()[1]
    assert per_recipient["Action"] == "delayed" and per_recipient["Status"] == "4.4.1"
    assert "Remote-MTA" not in per_recipient
    assert "14 Nov 2023" in per_recipient["Will-Retry-Until"]
    assert build_dsn(message(notify="FAILURE"), None, reason=reason, cfg=cfg, body=ORIGINAL,
                     action="delayed") is None


def test_internal_failure_without_result_takes_status_from_the_reason():
    _, data = build_dsn(message(), None, reason="554 5.4.7 [internal] exceeded max time without delivery",
                        cfg=CFG, body=ORIGINAL)
    per_recipient = parse(data).get_payload()[1].get_payload()[1]
    assert per_recipient["Status"] == "5.4.7"
    assert per_recipient["Diagnostic-Code"] == "smtp; 554 5.4.7 [internal] exceeded max time without delivery"
