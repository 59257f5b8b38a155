"""Throttles resolve by reference: resolver.Config.throttle_scope (momentum-facts.md §1.5).

Every sub-scope that falls back to the same defining stanza gets the same scope
id, so the delivery code keeps one bucket per id.
"""
from __future__ import annotations

from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config
from ecelerity.config.types import Rate

MESSAGES = "outbound_throttle_messages"
CONNECTIONS = "outbound_throttle_connections"

TEXT = """
binding_group "g1" {
  outbound_throttle_messages = "60/3"
  binding "b1" { }
  binding "b2" { domain "own.example" { outbound_throttle_messages = "10" } }
}
binding "b3" { }
domain "/[.]example[.]org$/" { outbound_throttle_messages = "7/2" }
host "mx.example.com" { outbound_throttle_connections = "5/1" }
"""


def make_config(text: str = TEXT) -> Config:
    return Config(parse_text(text, "thr.conf"), files=["thr.conf"], warnings=[])


def test_domains_under_one_group_share_the_group_bucket():
    config = make_config()
    first = config.throttle_scope(MESSAGES, binding="b1", domain="a.example")
    second = config.throttle_scope(MESSAGES, binding="b1", domain="b.example")
    other_binding = config.throttle_scope(MESSAGES, binding="b2", domain="c.example")
    assert first == second == other_binding == ((("binding_group", "g1"),), Rate(60, 3))


def test_a_domain_that_defines_its_own_gets_its_own_bucket():
    config = make_config()
    own = config.throttle_scope(MESSAGES, binding="b2", domain="own.example")
    shared = config.throttle_scope(MESSAGES, binding="b2", domain="a.example")
    assert own == ((("binding_group", "g1"), ("binding", "b2"), ("domain", "own.example")),
                   Rate(10, 1))
    assert own[0] != shared[0]


def test_a_regex_domain_is_one_bucket_for_every_domain_it_matches():
    config = make_config()
    first = config.throttle_scope(MESSAGES, binding="b3", domain="a.example.org")
    second = config.throttle_scope(MESSAGES, binding="b3", domain="b.example.org")
    assert first == second == ((("domain", "/[.]example[.]org$/"),), Rate(7, 2))


def test_unset_everywhere_is_none():
    config = make_config()
    assert config.throttle_scope(MESSAGES, binding="b3", domain="example.net") is None
    assert config.throttle_scope(CONNECTIONS, binding="b1", domain="a.example") is None


def test_global_throttle_is_one_bucket_for_all():
    config = make_config('outbound_throttle_messages = "100/60"\nbinding "b1" { }\n')
    assert config.throttle_scope(MESSAGES, binding="b1", domain="x.example") \
        == config.throttle_scope(MESSAGES, domain="y.example") == ((), Rate(100, 60))


def test_host_throttles_resolve_through_the_host_chain():
    config = make_config()
    assert config.throttle_scope(CONNECTIONS, host="mx.example.com", binding="b1",
                                 domain="a.example") == ((("host", "mx.example.com"),), Rate(5, 1))
    assert config.throttle_scope(MESSAGES, host="mx.example.com", binding="b1",
                                 domain="a.example") == ((("binding_group", "g1"),), Rate(60, 3))
    assert config.throttle_scope(CONNECTIONS, host="mx.other.com", binding="b1") is None
