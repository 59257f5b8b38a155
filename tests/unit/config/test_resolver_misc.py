"""resolver.Config beyond the fallback chains: listens, bindings, modules, scope_get, typing, caching."""
from __future__ import annotations

from pathlib import Path

import pytest

from ecelerity.config.errors import ConfigError
from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config


def make_config(text: str) -> Config:
    return Config(parse_text(text, "misc.conf"), files=["misc.conf"], warnings=[])


LISTENERS = """
ESMTP_Listener {
  Listen ":25" { }
  Listen "*:587" { Enable = false }
  Listen "[*]:25" { }
  Listen "127.0.0.1:2525" { }
  Listen "[::1]:0" { }
}
Control_Listener {
  Enable = false
  Listen "./var/run/control.sock" { }
  Listen "127.0.0.1:2025" { Enable = true }
}
"""


def test_listens_reads_every_listen_form():
    specs = make_config(LISTENERS).listens()
    assert [(s.name, s.kind, s.host, s.port, s.path, s.enabled) for s in specs] == [
        (":25", "tcp", "", 25, None, True),
        ("*:587", "tcp", "", 587, None, False),
        ("[*]:25", "tcp", "::", 25, None, True),
        ("127.0.0.1:2525", "tcp", "127.0.0.1", 2525, None, True),
        ("[::1]:0", "tcp", "::1", 0, None, True),
    ]
    assert specs[0].loc.line == 3


def test_listen_enable_falls_back_to_the_listener():
    specs = make_config(LISTENERS).listens("Control_Listener")
    assert [(s.kind, s.path, s.enabled) for s in specs] == [
        ("unix", "./var/run/control.sock", False),
        ("tcp", None, True),
    ]
    assert make_config("").listens() == []
    with pytest.raises(KeyError):
        make_config("").listens("smtp_listener")


def test_bad_listen_name_is_a_config_error_with_location():
    with pytest.raises(ConfigError) as caught:
        make_config('ESMTP_Listener {\n  Listen "::1:25" { }\n}\n')
    assert caught.value.first.loc.line == 2
    assert "bracketed" in caught.value.first.message


BINDINGS = """
binding_group "g1" { binding "b1" { } binding "b2" { } }
binding_group "g2" { }
binding "b1" { }
binding "b3" { }
binding_group "g1" { binding "b4" { } }
"""


def test_binding_structure():
    config = make_config(BINDINGS)
    assert config.bindings() == ["default", "b1", "b2", "b3", "b4"]
    assert config.binding_groups() == ["default", "g1", "g2"]
    assert config.binding_group_of("b1") == "g1"
    assert config.binding_group_of("b3") == "default"
    assert config.binding_group_of("default") == "default"
    assert config.bindings_in_group("g1") == ["b1", "b2", "b4"]
    assert config.bindings_in_group("default") == ["default", "b3"]
    assert config.bindings_in_group("g2") == []
    assert config.has_binding("b4") and config.has_binding("default") and not config.has_binding("B4")
    with pytest.raises(KeyError, match="unknown binding_group 'g3'"):
        config.bindings_in_group("g3")


def test_binding_in_two_groups_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        make_config('binding_group "g1" { binding "b" { } }\n'
                    'binding_group "g2" {\n  binding "b" { }\n}\n')
    assert caught.value.first.loc.line == 3
    assert "belongs to one group" in caught.value.first.message


def test_scope_get_has_no_fallback():
    config = make_config("""
max_outbound_connections = 7
binding_group "g1" { binding "b1" { tls = required  domain "Example.com" { max_recipients_per_batch = 3 } } }
ESMTP_Listener { Listen ":25" { Peer "10.0.0.0/8" { open_relay = true } } }
""")
    assert config.scope_get([], "Max_Outbound_Connections") == 7
    assert config.scope_get([("binding_group", "g1"), ("binding", "b1")], "tls") == "required"
    assert config.scope_get([("binding", "b1")], "tls") == "required"
    assert config.scope_get([("binding_group", "g1"), ("binding", "b1"), ("domain", "EXAMPLE.com")],
                            "max_recipients_per_batch") == 3
    assert config.scope_get([("ESMTP_Listener", None), ("Listen", ":25"), ("Peer", "10.0.0.0/8")],
                            "open_relay") is True
    with pytest.raises(KeyError, match="Option 'tls' is not set in scope 'binding_group:g1'"):
        config.scope_get([("binding_group", "g1")], "tls")
    with pytest.raises(KeyError, match="no scope 'binding:b9'"):
        config.scope_get([("binding", "b9")], "tls")
    with pytest.raises(KeyError):  # the domain is inside the grouped declaration only
        config.scope_get([("binding", "b1"), ("domain", "example.com")], "max_recipients_per_batch")


def test_modules_are_listed_with_their_settings():
    config = make_config("""
alerting { }
ec_logger "mainlog" { mainlog = "./var/log/mainlog.ec" }
binding "b1" { }
""")
    found = [(m.module, m.instance, m.loc.line) for m in config.modules()]
    assert found == [("alerting", None, 2), ("ec_logger", "mainlog", 3)]
    assert config.modules()[1].settings["mainlog"] == "./var/log/mainlog.ec"


def test_values_are_typed_by_the_registry():
    config = make_config("""
open_relay = yes
relay_hosts = ( "127.0.0.0/8" "10.0.0.0/24" )
spool_mode = 0640
""")
    assert config.get_inbound("open_relay") is True
    assert config.get("spool_mode") == 0o640
    assert len(config.get_inbound("relay_hosts")) == 2


def test_bad_value_is_a_config_error_at_its_location():
    config = make_config("binding \"b1\" {\n  max_outbound_connections = lots\n}\n")
    with pytest.raises(ConfigError) as caught:
        config.get("max_outbound_connections", binding="b1")
    assert (caught.value.first.loc.line, caught.value.first.loc.col) == (2, 3)
    assert "max_outbound_connections" in caught.value.first.message


def test_bad_regex_domain_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        make_config('\ndomain "/(unclosed/" { }\n')
    assert caught.value.first.loc.line == 2


def test_results_are_cached_and_a_reload_is_a_new_config():
    text = 'binding "b1" { domain "example.com" { max_outbound_connections = 3 } }'
    old = make_config(text)
    first = old.get("max_outbound_connections", binding="b1", domain="example.com")
    assert old.get("max_outbound_connections", binding="b1", domain="example.com") == first == 3
    new = make_config(text.replace("= 3", "= 4"))
    assert new.get("max_outbound_connections", binding="b1", domain="example.com") == 4
    assert old.get("max_outbound_connections", binding="b1", domain="example.com") == 3


def test_the_loader_builds_a_config_for_a_valid_file(tmp_path):
    from ecelerity.config.loader import load_config

    path = tmp_path / "ecelerity.conf"
    path.write_text("""
max_outbound_connections = 30
binding_group "group1" {
  max_outbound_connections = 5
  binding "example" { domain "example.com" { max_recipients_per_batch = 50 } }
}
binding "other" { }
""")
    config = load_config(str(path))
    assert isinstance(config, Config)
    assert config.get("max_outbound_connections", binding="example", domain="example.com") == 5
    assert config.get("max_outbound_connections", binding="other", domain="example.com") == 30


def test_a_domain_declared_twice_merges_later_wins():
    config = make_config("""
domain "example.com" { max_outbound_connections = 1  tls = required }
domain "EXAMPLE.com" { max_outbound_connections = 2 }
""")
    assert config.explain("max_outbound_connections", domain="example.com")[:2] == (
        2, "domain:example.com")
    assert config.get("tls", domain="example.com") == "required"


def test_scope_get_reads_module_scopes():
    config = make_config('ec_logger "mainlog" { mainlog = "./var/log/mainlog.ec" }')
    assert config.scope_get([("EC_Logger", "mainlog")], "Mainlog") == "./var/log/mainlog.ec"


SHIPPED = sorted(
    (Path(__file__).resolve().parents[3] / "conf").glob("**/*.conf"))


@pytest.mark.parametrize("path", [p for p in SHIPPED if "include" not in p.parts],
                         ids=lambda p: p.name)
def test_shipped_configs_resolve_for_every_binding_and_listen(path):
    from ecelerity.config.loader import load_config

    config = load_config(str(path))
    for binding in config.bindings():
        for option in ("max_outbound_connections", "outbound_throttle_messages", "tls"):
            value, where, loc = config.explain(option, binding=binding, domain="example.com")
            assert (where == "default") == (loc is None)
    for listen in config.listens():
        assert listen.kind in ("tcp", "unix")
        config.get_inbound("max_receptions_per_connection", listen=listen.name, peer_ip="127.0.0.1")
