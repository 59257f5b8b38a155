"""Sending-side fallback of resolver.Config.get / explain (momentum-facts.md §1.5).

Chain: binding_group::binding::domain -> binding::domain -> binding_group::domain
-> binding -> binding_group -> domain -> global -> default. Each level is tested
with every more specific level removed; a hypothesis model checks all subsets.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config

OPTION = "max_outbound_connections"

# level -> (value it sets, scope path explain() reports)
LEVELS = {
    "group_binding_domain": (1, "binding_group:g1::binding:b1::domain:example.com"),
    "binding_domain": (2, "binding:b1::domain:example.com"),
    "group_domain": (3, "binding_group:g1::domain:example.com"),
    "binding": (4, "binding:b1"),
    "group": (5, "binding_group:g1"),
    "domain": (6, "domain:example.com"),
    "global": (7, "global"),
}
ORDER = list(LEVELS)


def make_config(text: str) -> Config:
    return Config(parse_text(text, "test.conf"), files=["test.conf"], warnings=[])


def chain_config(levels: set[str]) -> str:
    """b1 is declared inside group g1 and again at top level; each level sets OPTION if asked."""

    def line(level: str) -> str:
        return f"{OPTION} = {LEVELS[level][0]}" if level in levels else ""

    return f"""
{line("global")}
domain "example.com" {{ {line("domain")} }}
binding_group "g1" {{
  {line("group")}
  domain "example.com" {{ {line("group_domain")} }}
  binding "b1" {{
    bind_address = 127.0.0.1
    domain "example.com" {{ {line("group_binding_domain")} }}
  }}
}}
binding "b1" {{
  {line("binding")}
  domain "example.com" {{ {line("binding_domain")} }}
}}
binding "b2" {{ }}
"""


@pytest.mark.parametrize("level", ORDER)
def test_each_level_wins_once_more_specific_levels_are_removed(level):
    present = set(ORDER[ORDER.index(level):])
    config = make_config(chain_config(present))
    value, path, loc = config.explain(OPTION, binding="b1", domain="example.com")
    assert (value, path) == LEVELS[level]
    assert config.get(OPTION, binding="b1", domain="example.com") == LEVELS[level][0]
    assert loc is not None and loc.file == "test.conf"


def test_nothing_set_gives_registry_default():
    config = make_config(chain_config(set()))
    assert config.explain(OPTION, binding="b1", domain="example.com") == (32, "default", None)


def test_location_points_at_the_winning_setting():
    config = make_config('binding "b1" {\n  domain "example.com" {\n    max_outbound_connections = 9\n  }\n}\n')
    _, path, loc = config.explain(OPTION, binding="b1", domain="example.com")
    assert path == "binding:b1::domain:example.com"
    assert (loc.line, loc.col) == (3, 5)


@given(st.sets(st.sampled_from(ORDER)), st.booleans())
@settings(max_examples=200, deadline=None)
def test_most_specific_present_level_wins(present, with_domain):
    config = make_config(chain_config(present))
    applicable = [lvl for lvl in ORDER if with_domain or "domain" not in lvl]
    expected = next((LEVELS[lvl] for lvl in applicable if lvl in present), (32, "default"))
    got = config.explain(OPTION, binding="b1", domain="example.com" if with_domain else None)
    assert got[:2] == expected


def test_binding_outside_the_group_skips_group_levels():
    config = make_config(chain_config(set(ORDER)))
    # b2 is not in g1: its chain is b2 -> default group -> global domain -> global
    assert config.explain(OPTION, binding="b2", domain="example.com")[:2] == (6, "domain:example.com")
    assert config.explain(OPTION, binding="b2")[:2] == (7, "global")


def test_documented_worked_example():
    """§1.5: example.com in binding 'example' in 'group1' gets 5; a binding outside gets 30."""
    config = make_config("""
max_outbound_connections = 30
binding_group "group1" {
  max_outbound_connections = 5
  binding "example" {
    bind_address = 10.0.0.1
    domain "example.com" { max_recipients_per_batch = 50 }
  }
}
binding "other" { bind_address = 10.0.0.2 }
""")
    assert config.get(OPTION, binding="example", domain="example.com") == 5
    assert config.get("max_recipients_per_batch", binding="example", domain="example.com") == 50
    assert config.get(OPTION, binding="other", domain="example.com") == 30
    assert config.get("max_recipients_per_batch", binding="other", domain="example.com") == 100


def test_no_binding_means_the_default_binding():
    config = make_config("""
max_outbound_connections = 7
binding "default" { max_outbound_connections = 11 }
binding "b1" { }
""")
    assert config.get(OPTION) == 11
    assert config.explain(OPTION, binding="default")[1] == "binding:default"
    assert config.get(OPTION, binding="b1") == 7


def test_default_group_applies_to_ungrouped_bindings():
    config = make_config("""
binding_group "default" { max_outbound_connections = 12 }
binding_group "g1" { binding "grouped" { } }
binding "loose" { }
""")
    assert config.explain(OPTION, binding="loose")[:2] == (12, "binding_group:default")
    assert config.get(OPTION) == 12
    assert config.get(OPTION, binding="grouped") == 32


def test_binding_declarations_merge_later_wins():
    config = make_config("""
binding_group "g1" { binding "b1" { max_outbound_connections = 3 tls = required } }
binding "b1" { max_outbound_connections = 4 }
""")
    assert config.get(OPTION, binding="b1") == 4
    assert config.get("tls", binding="b1") == "required"


def test_binding_names_are_case_sensitive_options_and_domains_are_not():
    config = make_config('binding "B1" { domain "Example.COM" { Max_Outbound_Connections = 8 } }')
    assert config.get("MAX_OUTBOUND_CONNECTIONS", binding="B1", domain="EXAMPLE.com.") == 8
    with pytest.raises(KeyError, match="did you mean 'B1'"):
        config.get(OPTION, binding="b1")


def test_unknown_option_is_a_key_error_with_suggestion():
    config = make_config("")
    with pytest.raises(KeyError, match="did you mean"):
        config.get("max_outbund_connections")


def test_exact_domain_beats_regex_within_one_container():
    config = make_config("""
domain "/example[.]com$/" { max_outbound_connections = 1 }
domain "mail.example.com" { max_outbound_connections = 2 }
""")
    assert config.explain(OPTION, domain="mail.example.com")[:2] == (2, "domain:mail.example.com")
    assert config.explain(OPTION, domain="www.example.com")[:2] == (1, "domain:/example[.]com$/")
    assert config.get(OPTION, domain="example.org") == 32


def test_regexes_are_tried_in_file_order():
    config = make_config("""
domain "/^a/" { max_outbound_connections = 1 }
domain "/com$/" { max_outbound_connections = 2 }
domain "/^abc/" { max_outbound_connections = 3 }
""")
    assert config.get(OPTION, domain="abc.com") == 1
    assert config.get(OPTION, domain="xyz.com") == 2
    assert config.get(OPTION, domain="ABC.org") == 1  # matched on the lowercase name


def test_regex_in_a_more_specific_container_beats_exact_in_global():
    config = make_config("""
domain "example.com" { max_outbound_connections = 1 }
binding "b1" { domain "/example/" { max_outbound_connections = 2 } }
""")
    assert config.get(OPTION, binding="b1", domain="example.com") == 2
    assert config.get(OPTION, binding="default", domain="example.com") == 1


def test_documented_regex_domain_form():
    config = make_config(
        'domain "/(?:^|[.])example[.](?:com|co[.]uk)$/" { max_outbound_connections = 4 }')
    assert config.get(OPTION, domain="mx.example.co.uk") == 4
    assert config.get(OPTION, domain="example.com") == 4
    assert config.get(OPTION, domain="notexample.com") == 32


def test_the_selected_domain_stanza_is_the_only_one_consulted_in_its_container():
    config = make_config("""
domain "mail.example.com" { tls = required }
domain "/example/" { max_outbound_connections = 3 }
max_outbound_connections = 7
""")
    assert config.get(OPTION, domain="mail.example.com") == 7
    assert config.get("tls", domain="mail.example.com") == "required"


@pytest.mark.parametrize("written, asked", [
    ("192.0.43.10", "[192.0.43.10]"),
    ("[192.0.43.10]", "192.0.43.10"),
    ("[IPv6:2001:db8::1]", "[IPv6:2001:DB8:0:0::1]"),
])
def test_ip_literal_domains_match_any_spelling(written, asked):
    config = make_config(f'domain "{written}" {{ max_outbound_connections = 2 }}')
    assert config.get(OPTION, domain=asked) == 2
    assert config.get(OPTION, domain="192.0.43.11") == 32
