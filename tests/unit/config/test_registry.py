"""The option registry: seed coverage, spec completeness, defaults, lookup, suggest, JSON."""
from __future__ import annotations

import re

import json
import os
from pathlib import Path

import pytest

from ecelerity.config import registry
from ecelerity.config.parser import parse_text
from ecelerity.config.scopes import SCOPE_KINDS
from ecelerity.config.types import SCOPE

INVENTORY = Path("/work/shared/specs/inventory.json")
KNOWN_KINDS = set(SCOPE_KINDS) | {"global", "module"}


def test_seed_names_are_the_216_of_the_reference():
    names = registry.seed_option_names()
    assert len(names) == 216
    assert len({n.lower() for n in names}) == 216


@pytest.mark.skipif(not INVENTORY.exists() and os.environ.get("CI") != "true",
                    reason="the reference inventory is only present on the development machine")
def test_seed_names_match_the_inventory_file():
    inventory = json.loads(INVENTORY.read_text())
    assert registry.seed_option_names() == [entry["name"] for entry in inventory["config_options"]]


def test_every_seed_option_is_declared_with_type_scopes_and_doc():
    for name in registry.seed_option_names():
        spec = registry.lookup(name)
        assert spec is not None, name
        assert spec.name == name.lower()
        assert spec.type.name and spec.doc.strip() and spec.spelling.lower() == spec.name
        assert spec.scopes, name
        assert spec.scopes <= KNOWN_KINDS | {"cluster"}, (name, spec.scopes - KNOWN_KINDS)


def test_every_option_is_well_formed():
    specs = registry.all_options()
    assert [s.name for s in specs] == sorted(s.name for s in specs)
    for spec in specs:
        assert spec.name == spec.name.lower()
        assert spec.doc and "\n" not in spec.doc, spec.name
        assert isinstance(spec.implemented, bool) and isinstance(spec.dynamic, bool)
        assert spec.is_scope == (spec.type is SCOPE), spec.name


def test_defaults_round_trip_through_their_own_type():
    checked = 0
    for spec in registry.all_options():
        if spec.default is None:
            continue
        rendered = spec.render_default()
        value = parse_text(f"x = {rendered}\n").settings[0].value
        assert spec.type.parse(value) == spec.default, (spec.name, rendered)
        checked += 1
    assert checked > 150


@pytest.mark.parametrize("name,default", [
    ("max_outbound_connections", 32), ("retry_interval", 1200), ("max_retry_interval", 43200),
    ("message_expiration", 86400), ("max_retries", "auto"), ("force_fsync", False),
    ("spoolbase", "/var/spool/ecelerity"), ("spool_mode", 0o640), ("open_relay", False),
    ("tls", "no"), ("listen_backlog", 500), ("idle_time", 300), ("file_mode", 0o660),
    ("reconfig_message", "4.3.2 Reconfiguration in progress"), ("max_recipients_per_batch", 100),
    ("body_timeout", 600), ("ehlo_hostname", "__hostname__"), ("delivery_method", "ESMTP"),
])
def test_documented_defaults(name, default):
    assert registry.lookup(name).default == default


def test_scopes_follow_the_documentation():
    assert registry.lookup("max_outbound_connections").scopes == {
        "global", "binding", "binding_group", "domain", "host"}
    assert registry.lookup("relay_domains").scopes == {"global", "pathway", "pathway_group"}
    assert registry.lookup("open_relay").valid_in("Peer")
    assert not registry.lookup("spoolbase").valid_in("domain")
    assert registry.lookup("timeout").valid_in("control_listener")
    assert registry.lookup("domain").is_scope
    assert registry.lookup("spoolbase").dynamic is False


def test_tls_choices_are_exposed():
    assert registry.lookup("tls").choices == ("no", "ifavailable", "required")


def test_lookup_is_case_insensitive_and_none_for_unknown():
    assert registry.lookup("MAX_Outbound_Connections") is registry.lookup("max_outbound_connections")
    assert registry.lookup("snmp").spelling == "SNMP"
    assert registry.lookup("no_such_option") is None


def test_every_implemented_option_is_read_by_the_code():
    """implemented=True must mean some code outside the option tables reads the option."""
    import pathlib

    root = pathlib.Path(registry.__file__).resolve().parents[1]
    sources = "\n".join(
        p.read_text() for p in root.rglob("*.py")
        if not p.name.startswith("options_") and p.name != "registry.py"
    ).lower()
    implemented = [s.name for s in registry.all_options() if s.implemented]
    assert "local_changes_file" in implemented
    unread = [name for name in implemented if not re.search(rf"\b{name}\b", sources)]
    assert unread == []


def test_suggest():
    assert registry.suggest("Max_Outbund_Connections").lower() == "max_outbound_connections"
    assert registry.suggest("retry_intervall").lower() == "retry_interval"
    assert registry.suggest("completely_unrelated_words") is None
    assert registry.suggest("tsl", ["TLS", "SSL_Lock_Method"]) == "TLS"
    assert registry.suggest("enabel", ["Enable", "Enabled"]) in ("Enable", "Enabled")


def test_options_as_json_is_serialisable_and_complete():
    rows = registry.options_as_json()
    decoded = json.loads(json.dumps(rows))
    by_name = {row["name"]: row for row in decoded}
    for name in registry.seed_option_names():
        row = by_name[name.lower()]
        assert row["type"] and row["scopes"] and row["doc"]
        assert set(row) >= {"name", "type", "default", "scopes", "doc", "implemented"}
    assert by_name["spool_mode"]["default"] == "0640"
    assert by_name["outbound_throttle_messages"]["default"] is None
    assert by_name["tls"]["choices"] == ["no", "ifavailable", "required"]


def test_specs_are_hashable_even_with_list_defaults():
    error_levels = registry.lookup("error")
    assert error_levels.default == ["ALL"]
    assert len({error_levels, registry.lookup("ERROR"), registry.lookup("tls")}) == 2
