"""Host-scope fallback of resolver.Config.get_host / explain_host (momentum-facts.md §1.3, §1.5).

Chain: binding_group::binding::host -> binding::host -> binding_group::host -> host,
then the sending chain (g::b::domain ... global -> default). max_outbound_connections
in a host scope looks at host stanzas only and is -1 when they do not set it.
"""
from __future__ import annotations

import pytest

from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config
from ecelerity.config.types import Rate

OPTION = "outbound_throttle_connections"

LEVELS = {
    "group_binding_host": (1, "binding_group:g1::binding:b1::host:mx.example.com"),
    "binding_host": (2, "binding:b1::host:mx.example.com"),
    "group_host": (3, "binding_group:g1::host:mx.example.com"),
    "host": (4, "host:mx.example.com"),
    "group_binding_domain": (5, "binding_group:g1::binding:b1::domain:example.com"),
    "binding_domain": (6, "binding:b1::domain:example.com"),
    "group_domain": (7, "binding_group:g1::domain:example.com"),
    "binding": (8, "binding:b1"),
    "group": (9, "binding_group:g1"),
    "domain": (10, "domain:example.com"),
    "global": (11, "global"),
}
ORDER = list(LEVELS)


def make_config(text: str) -> Config:
    return Config(parse_text(text, "host.conf"), files=["host.conf"], warnings=[])


def chain_config(levels: set[str], option: str = OPTION) -> str:
    def line(level: str) -> str:
        return f'{option} = "{LEVELS[level][0]}"' if level in levels else ""

    return f"""
{line("global")}
domain "example.com" {{ {line("domain")} }}
host "mx.example.com" {{ {line("host")} }}
binding_group "g1" {{
  {line("group")}
  domain "example.com" {{ {line("group_domain")} }}
  host "mx.example.com" {{ {line("group_host")} }}
  binding "b1" {{
    domain "example.com" {{ {line("group_binding_domain")} }}
    host "mx.example.com" {{ {line("group_binding_host")} }}
  }}
}}
binding "b1" {{
  {line("binding")}
  domain "example.com" {{ {line("binding_domain")} }}
  host "mx.example.com" {{ {line("binding_host")} }}
}}
"""


@pytest.mark.parametrize("level", ORDER)
def test_each_level_wins_once_more_specific_levels_are_removed(level):
    config = make_config(chain_config(set(ORDER[ORDER.index(level):])))
    value, path, loc = config.explain_host(OPTION, host="mx.example.com", binding="b1",
                                           domain="example.com")
    expected_value, expected_path = LEVELS[level]
    assert value == Rate(expected_value, 1)
    assert path == expected_path
    assert loc is not None and loc.file == "host.conf"


def test_unset_throttle_is_the_registry_default():
    config = make_config(chain_config(set()))
    assert config.explain_host(OPTION, host="mx.example.com", binding="b1", domain="example.com") \
        == (None, "default", None)


def test_other_host_skips_host_levels():
    config = make_config(chain_config(set(ORDER)))
    assert config.explain_host(OPTION, host="mx2.example.com", binding="b1",
                               domain="example.com")[1] == LEVELS["group_binding_domain"][1]


def test_host_names_are_case_insensitive_and_regex_hosts_match():
    config = make_config("""
host "MX.Example.com" { outbound_throttle_connections = 5 }
host "/[.]example[.]net$/" { outbound_throttle_connections = 6 }
""")
    assert config.get_host(OPTION, host="mx.EXAMPLE.com.") == Rate(5, 1)
    assert config.explain_host(OPTION, host="mx1.example.net")[:2] == (Rate(6, 1),
                                                                        "host:/[.]example[.]net$/")


MOC_HOST_LEVELS = ["group_binding_host", "binding_host", "group_host", "host"]


@pytest.mark.parametrize("level", MOC_HOST_LEVELS)
def test_max_outbound_connections_uses_host_levels(level):
    present = set(ORDER[ORDER.index(level):])
    config = make_config(chain_config(present, "max_outbound_connections"))
    value, path, _ = config.explain_host("max_outbound_connections", host="mx.example.com",
                                         binding="b1", domain="example.com")
    assert (value, path) == LEVELS[level]


def test_max_outbound_connections_in_host_scope_does_not_fall_back():
    present = set(ORDER[ORDER.index("group_binding_domain"):])
    config = make_config(chain_config(present, "max_outbound_connections"))
    assert config.explain_host("max_outbound_connections", host="mx.example.com", binding="b1",
                               domain="example.com") == (-1, "default", None)
    # the same option still falls back on the sending side
    assert config.get("max_outbound_connections", binding="b1", domain="example.com") == 5


def test_unknown_binding_is_a_key_error():
    config = make_config(chain_config(set(ORDER)))
    with pytest.raises(KeyError, match="unknown binding 'b9'"):
        config.get_host(OPTION, host="mx.example.com", binding="b9")
