"""SMTPService.sessions_by_ip: per-peer counts of sessions in progress, read-only.

The live path (real sessions through the daemon, seen by ac:inbound_session_count and
msys.audit.inbound_session_count) is tests/scenarios/test_lua_rcptto_list.py.
"""
from __future__ import annotations

from ecelerity.smtp.server import SMTPService


def test_counts_follow_enter_and_leave_per_ip():
    service = SMTPService()
    assert service.sessions_by_ip() == {}
    for ip in ("192.0.2.1", "192.0.2.1", "2001:db8::1"):
        assert service.limiter.try_enter(ip)
    assert service.sessions_by_ip() == {"192.0.2.1": 2, "2001:db8::1": 1}
    service.limiter.leave("192.0.2.1")
    service.limiter.leave("2001:db8::1")
    assert service.sessions_by_ip() == {"192.0.2.1": 1}


def test_refused_sessions_are_not_counted():
    service = SMTPService()
    assert service.limiter.try_enter("192.0.2.1", peer_limit=1)
    assert not service.limiter.try_enter("192.0.2.1", peer_limit=1)
    assert service.sessions_by_ip() == {"192.0.2.1": 1}


def test_the_mapping_is_a_copy_callers_cannot_change_the_counts():
    service = SMTPService()
    service.limiter.try_enter("192.0.2.1")
    counts = service.sessions_by_ip()
    counts["192.0.2.1"] = 99
    counts["198.51.100.1"] = 1
    assert service.sessions_by_ip() == {"192.0.2.1": 1}
