"""SessionSettings resolved from a real Config (loader + resolver): smtp/settings.py."""
from __future__ import annotations

from ecelerity.config.loader import load_config_text
from ecelerity.smtp.settings import SessionSettings

CONF = """
relay_domains = ( "example.com" "*.example.org" )
inbound_throttle_messages = "10/60"
rfc2822_max_line_length = 998
ESMTP_Listener {
  idle_time = 120
  relay_hosts = ( "10.0.0.0/8" )
  Peer "192.0.2.0/24" { max_message_size = 1000 }
  Listen "127.0.0.1:2525" {
    require_ehlo = true
    Peer "192.0.2.7" { open_relay = true  max_message_size = 500 }
  }
  Listen "[::1]:2525" { }
}
"""


def test_defaults_are_momentums():
    s = SessionSettings()
    assert (s.idle_time, s.max_message_size, s.require_ehlo, s.open_relay) == (300, 0, False, False)
    assert (s.rfc2822_lone_lf_in_headers, s.rfc2822_lone_lf_in_body) == ("pedantic", "ignore")
    assert s.reconfig_message == "4.3.2 Reconfiguration in progress"


def test_resolved_per_listen_and_peer():
    cfg = load_config_text(CONF)
    peer = SessionSettings.resolve(cfg, listen="127.0.0.1:2525", peer_ip="192.0.2.7")
    assert (peer.open_relay, peer.max_message_size, peer.require_ehlo, peer.idle_time) == (True, 500, True, 120)
    net = SessionSettings.resolve(cfg, listen="127.0.0.1:2525", peer_ip="192.0.2.8")
    assert (net.open_relay, net.max_message_size) == (False, 1000)
    other = SessionSettings.resolve(cfg, listen="[::1]:2525", peer_ip="::1")
    assert (other.require_ehlo, other.max_message_size) == (False, 0)
    assert other.relay_domains == ("example.com", "*.example.org")
    assert [str(n) for n in other.relay_hosts] == ["10.0.0.0/8"]
    assert other.inbound_throttle_messages == (10, 60.0)
    assert other.rfc2822_max_line_length == 998
    assert other.peer_sessions == 0  # not in the option registry yet: built-in default


def test_resolve_is_cached_per_config_and_peer_class_and_copied():
    from ecelerity.smtp import settings as settings_module
    settings_module.clear_settings_cache()
    cfg = load_config_text(CONF)
    first = SessionSettings.resolve(cfg, listen="127.0.0.1:2525", peer_ip="192.0.2.8")
    first.max_message_size = 1  # a session's copy is its own
    again = SessionSettings.resolve(cfg, listen="127.0.0.1:2525", peer_ip="192.0.2.9")  # same Peers
    assert again is not first and again.max_message_size == 1000
    cache = settings_module._cache_for(cfg)
    assert len(cache) == 1
    special = SessionSettings.resolve(cfg, listen="127.0.0.1:2525", peer_ip="192.0.2.7")
    assert (special.open_relay, special.max_message_size) == (True, 500) and len(cache) == 2
    outside = SessionSettings.resolve(cfg, listen="127.0.0.1:2525", peer_ip="198.51.100.1")
    assert outside.max_message_size == 0 and len(cache) == 3


def test_a_new_config_is_a_new_cache():
    cfg = load_config_text(CONF)
    assert SessionSettings.resolve(cfg, listen="[::1]:2525", peer_ip="::1").idle_time == 120
    reloaded = load_config_text(CONF.replace("idle_time = 120", "idle_time = 30"))
    assert SessionSettings.resolve(reloaded, listen="[::1]:2525", peer_ip="::1").idle_time == 30
    assert SessionSettings.resolve(cfg, listen="[::1]:2525", peer_ip="::1").idle_time == 120


def test_session_time_limit_and_rdns_options_resolve():
    cfg = load_config_text(CONF.replace("idle_time = 120", "idle_time = 120\n  session_time_limit = 60\n"
                                        "  received_rdns = true"))
    s = SessionSettings.resolve(cfg, listen="[::1]:2525", peer_ip="::1")
    assert (s.session_time_limit, s.received_rdns, s.received_rdns_timeout) == (60, True, 1)
    assert SessionSettings().session_time_limit == 3600 and SessionSettings().received_rdns is False
