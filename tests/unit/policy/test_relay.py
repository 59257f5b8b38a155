"""Relay decisions: policy/relay.py (matrix of clients x recipient domains)."""
from __future__ import annotations

import pytest

from ecelerity.policy.relay import domain_matches, parse_networks, peer_in_networks, relay_decision
from ecelerity.smtp.address import parse_path

DOMAINS = ("example.com", "*.sub.example.org", "*glob.test")
HOSTS = parse_networks(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"])


@pytest.mark.parametrize("domain, expected", [
    ("example.com", True), ("EXAMPLE.COM", True), ("example.com.", True),
    ("a.example.com", False), ("sub.example.org", False), ("x.sub.example.org", True),
    ("y.x.sub.example.org", True), ("badglob.test", True), ("glob.test", True),
    ("example.com.evil.test", False), ("", False),
])
def test_relay_domains_glob_rule(domain, expected):
    assert domain_matches(domain, DOMAINS) is expected


@pytest.mark.parametrize("peer, expected", [
    ("10.1.2.3", True), ("192.0.2.7", True), ("192.0.2.8", False), ("::ffff:10.0.0.1", True),
    ("2001:db8::5", True), ("2001:db9::5", False), ("not-an-ip", False),
])
def test_relay_hosts_cidrs(peer, expected):
    assert peer_in_networks(peer, HOSTS) is expected


def test_bad_relay_host_is_named():
    with pytest.raises(ValueError, match="'nonsense'"):
        parse_networks(["nonsense"])


@pytest.mark.parametrize("rcpt, peer, kwargs, allowed, reason", [
    ("x@example.com", "198.51.100.1", {}, True, "relay_domains"),
    ("x@elsewhere.test", "198.51.100.1", {}, False, "denied"),
    ("x@elsewhere.test", "10.9.9.9", {}, True, "relay_hosts"),
    ("x@elsewhere.test", "198.51.100.1", {"open_relay": True}, True, "open_relay"),
    ("x@elsewhere.test", "198.51.100.1", {"authenticated": True}, True, "authenticated"),
    ("x@elsewhere.test", "198.51.100.1", {"can_relay": True}, True, "can_relay"),
    ("@example.com:x@elsewhere.test", "198.51.100.1", {}, False, "denied"),
    ("@elsewhere.test:x@example.com", "198.51.100.1", {}, True, "relay_domains"),
    ("x%elsewhere.test@example.com", "198.51.100.1", {}, True, "relay_domains"),
    ('"x@elsewhere.test"@example.com', "198.51.100.1", {}, True, "relay_domains"),
    ('"x@example.com"@elsewhere.test', "198.51.100.1", {}, False, "denied"),
    ("x@[192.0.2.1]", "198.51.100.1", {}, False, "denied"),
])
def test_relay_matrix(rcpt, peer, kwargs, allowed, reason):
    box = parse_path(rcpt)
    decision = relay_decision(rcpt_domain=box.domain_lower, peer_ip=peer, relay_hosts=HOSTS,
                              relay_domains=DOMAINS, **kwargs)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_postmaster_is_always_local():
    box = parse_path("postmaster", allow_postmaster=True)
    assert relay_decision(rcpt_domain=box.domain_lower, peer_ip="198.51.100.1").allowed
