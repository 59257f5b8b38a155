"""ecelerity/delivery/client_config.py: a ClientSettings read for one (binding, domain)
through a real configuration resolver."""
from __future__ import annotations

from ecelerity.config.loader import load_config_text
from ecelerity.delivery.client_config import client_settings, local_fqdn

CONF = '''hostname = "mta.example"
connect_timeout = 7
Binding "out" { bind_address = "127.0.0.2" ehlo_hostname = "out.example" }
Domain "slow.test" { connect_timeout = 90 tls = "ifavailable" }
'''


def test_options_follow_binding_and_domain_scopes():
    cfg = load_config_text(CONF)
    plain = client_settings(cfg, "default", "fast.test")
    slow = client_settings(cfg, "out", "slow.test")
    assert (plain.connect_timeout, plain.tls, plain.bind_address) == (7, "no", None)
    assert (slow.connect_timeout, slow.tls, slow.bind_address) == (90, "ifavailable", "127.0.0.2")
    assert (plain.ehlo_hostname, slow.ehlo_hostname) == ("mta.example", "out.example")


def test_without_hostname_the_local_fqdn_is_used_and_asked_once():
    cfg = load_config_text('bind_address = "*"\n')
    settings = client_settings(cfg, None, "any.test")
    assert settings.ehlo_hostname == local_fqdn() and settings.bind_address is None
    assert local_fqdn.cache_info().currsize == 1
