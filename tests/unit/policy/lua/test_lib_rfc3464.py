"""msys.rfc3464.*: parse the DSNs our own bounce code writes; compute fields; MDNs."""
from __future__ import annotations

import email

from ecelerity.bounce.dsn import build_dsn
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_records import SpooledMessage

from .conftest import values

ORIGINAL = (b"From: Ann <ann@a.example>\r\nTo: bob@b.example\r\nSubject: hello\r\n"
            b"Message-ID: <m1@a.example>\r\nDisposition-Notification-To: receipts@a.example\r\n"
            b"\r\nbody\r\n")


class Cfg:
    def get(self, option, **kw):
        return {"bounces_inline_original": "headers", "generate_bounces": True}.get(option)


def _dsn() -> bytes:
    envelope = Envelope(mail_from="ann@a.example", recipients=[Recipient("bob@b.example")])
    message = SpooledMessage(id="1", batch_id="1", recipient=envelope.recipients[0],
                             domain="b.example", envelope=envelope, next_attempt=0.0,
                             created=0.0, binding=None, size=len(ORIGINAL))
    made = build_dsn(message, None, reason="550 5.1.1 user unknown", cfg=Cfg(), body=ORIGINAL)
    assert made is not None
    return made[1]


def test_extract_delivery_status_of_a_real_dsn(run):
    got = values(run("""
        local s = msys.rfc3464.extract_delivery_status(...)
        local r = s.recipients[1]
        return #s.recipients, r["final-recipient"], r.action, r.status, s["reporting-mta"] ~= nil,
               msys.rfc3464.extract_delivery_status("Subject: not a dsn\\r\\n\\r\\nhi\\r\\n")""",
        _dsn()))
    assert got == (1, b"rfc822; bob@b.example", b"failed", b"5.1.1", True, None)


def test_compute_delivery_status_round_trips_through_extract(run):
    got = values(run("""
        local t = msys.rfc3464.compute_delivery_status("x@y.example", "delayed", "4.4.1", "421 busy")
        local text = msys.rfc3464.compute_delivery_status_string("x@y.example", "failed", "5.1.1")
        local dsn = "Content-Type: multipart/report; report-type=delivery-status; boundary=b\\r\\n\\r\\n"
          .. "--b\\r\\nContent-Type: message/delivery-status\\r\\n\\r\\n" .. text .. "--b--\\r\\n"
        local back = msys.rfc3464.extract_delivery_status(dsn)
        return t.per_recipient.Action, t.per_recipient["Diagnostic-Code"], back.recipients[1].status"""))
    assert got == (b"delayed", b"smtp; 421 busy", b"5.1.1")
    assert "RFC 3463" in run('msys.rfc3464.compute_delivery_status("a@b", "failed", "bad")').error
    assert "action" in run('msys.rfc3464.compute_delivery_status("a@b", "lost", "5.0.0")').error


def test_create_and_send_mdn(rt, run):
    injected = []
    rt.injector = lambda envelope, data: injected.append((envelope, data)) or "B-1"
    got = values(run("""
        local mdn = msys.rfc3464.create_mdn(...)
        return mdn:raw(), msys.rfc3464.send_mdn(..., "manual-action/MDN-sent-manually; deleted"),
               msys.rfc3464.send_mdn("Subject: nobody\\r\\n\\r\\nx\\r\\n")""", ORIGINAL))
    parsed = email.message_from_bytes(got[0])
    assert parsed["To"] == "receipts@a.example"
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "disposition-notification"
    report = parsed.get_payload()[1]
    assert b"Original-Message-ID: <m1@a.example>" in report.as_bytes()
    assert got[1] == b"B-1" and got[2] is None
    [(envelope, data)] = injected
    assert envelope.mail_from == "" and [r.address for r in envelope.recipients] == [
        "receipts@a.example"]
    assert b"Disposition: manual-action/MDN-sent-manually; deleted" in data
