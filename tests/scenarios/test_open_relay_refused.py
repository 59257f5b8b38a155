"""An open-relay attempt is refused with 550 5.7.1; relay rights come only from config or auth."""
from __future__ import annotations

from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = """
relay_domains = ( "local.test" )
ESMTP_Listener {
  Listen "127.0.0.1:0" { }
  Listen "[::1]:0" { }
  Peer "::1" { open_relay = true }
}
"""


def _attempt(port, host="127.0.0.1"):
    c = RawClient(port, host)
    c.read_reply()
    c.cmd("EHLO attacker.test")
    assert c.cmd("MAIL FROM:<spam@attacker.test>").code == 250
    replies = {rcpt: c.cmd(f"RCPT TO:<{rcpt}>") for rcpt in (
        "victim@elsewhere.test",
        "@local.test:victim@elsewhere.test",        # source route: the mailbox is what counts
        "victim%elsewhere.test@local.test",         # % hack: a local mailbox, never re-routed
        '"victim@elsewhere.test"@local.test',       # quoted local part: still local
        '"victim@local.test"@elsewhere.test',
        "victim@local.test.elsewhere.test",
        "user@local.test",
    )}
    c.cmd("QUIT")
    return replies


def test_open_relay_attempt_refused(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        replies = _attempt(lst.port)
        ipv6 = _attempt(lst.port6, "::1")
    denied = {k for k, r in replies.items() if (r.code, r.text) == (550, "5.7.1 relaying denied")}
    assert denied == {"victim@elsewhere.test", "@local.test:victim@elsewhere.test",
                      '"victim@local.test"@elsewhere.test', "victim@local.test.elsewhere.test"}
    assert all(r.code == 250 for k, r in replies.items() if k not in denied)
    # the Peer scope with open_relay applies to ::1 only
    assert all(r.code == 250 for r in ipv6.values())
    assert read_spool(lst.spool_dir) == []
