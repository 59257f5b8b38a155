"""dkim/settings.py: the opendkim stanza's grammar, typed values, and errors with file:line:col."""
from __future__ import annotations

import pytest

from ecelerity.config.parser import parse_text
from ecelerity.dkim.settings import DkimConfigError, read_settings
from tests.helpers.opendkim import genkey


def _stanza(text: str):
    root = parse_text(text, "dkim.conf")
    return next(child for child in root.children if child.kind == "opendkim")


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return genkey(tmp_path_factory.mktemp("keys"), "example.test", "s1")


def test_domain_stanzas_inherit_the_top_level_and_override_it(key):
    keys_dir = key.private.parent.parent
    settings = read_settings(_stanza(f'''opendkim "o1" {{
  header_canon = "simple"  body_canon = "relaxed"
  headerlist = ( "From" "To" "Subject" )
  key = "{keys_dir}/%{{d}}/%{{s}}.key"
  dkim_domain "Example.Test" {{ selector = "s1" header_canon = "relaxed" }}
}}'''))
    rule = settings.domains["example.test"]
    assert (rule.selector, rule.header_canon, rule.body_canon) == ("s1", "relaxed", "relaxed")
    assert rule.headerlist == ("from", "to", "subject")
    assert settings.rule_for("mail.example.test") is rule   # subdomains use the parent's rule
    assert settings.rule_for("other.test") is None          # no defaults that can sign alone
    assert settings.validate_inbound is False


def test_a_missing_key_file_is_an_error_at_the_key_setting(tmp_path):
    with pytest.raises(DkimConfigError) as err:
        read_settings(_stanza(f'''opendkim "o1" {{
  dkim_domain "example.test" {{
    selector = "s1"
    key = "{tmp_path}/nope/%{{s}}.key"
  }}
}}'''))
    assert str(err.value).startswith("dkim.conf:4:5: ")
    assert f"{tmp_path}/nope/s1.key" in str(err.value) and "No such file" in str(err.value)


def test_a_file_that_is_not_a_key_is_refused(tmp_path):
    (tmp_path / "s1.key").write_text("not a key\n")
    with pytest.raises(DkimConfigError, match="not a usable RSA private key"):
        read_settings(_stanza(f'opendkim "o" {{ key = "{tmp_path}/%{{s}}.key" '
                              'dkim_domain "a.test" { selector = "s1" } }'))


@pytest.mark.parametrize("body, expected", [
    ('header_canon = "loose"', "dkim.conf:1:16: option 'header_canon'"),
    ('selectr = "s1"', "dkim.conf:1:16: unknown option 'selectr' in opendkim 'o' "
                       "(did you mean 'selector'?)"),
    ('dkim_domain "a.test" { key = "/k" }', "dkim.conf:1:16: dkim_domain 'a.test' has no selector"),
    ('dkim_domains "a.test" { }', "dkim.conf:1:16: unknown stanza 'dkim_domains' inside opendkim"),
])
def test_mistakes_name_where_they_are(body, expected):
    with pytest.raises(DkimConfigError) as err:
        read_settings(_stanza(f'opendkim "o" {{ {body} }}'))
    assert str(err.value).startswith(expected)


def test_validate_config_checks_inside_dkim_domain_stanzas(tmp_path, key):
    """validate_config runs the module's own reader: a typo inside dkim_domain is an
    error at its line; a key file absent on this machine is only a warning there."""
    from ecelerity.config.errors import ConfigError
    from ecelerity.config.loader import load_config_text

    with pytest.raises(ConfigError) as err:
        load_config_text('opendkim "o" {\n  dkim_domain "a.test" {\n    selectr = "s1"\n  }\n}\n', "v.conf")
    assert "v.conf:3:5: unknown option 'selectr'" in str(err.value)
    config = load_config_text(f'opendkim "o" {{\n  dkim_domain "a.test" {{ selector = "s1" '
                              f'key = "{tmp_path}/absent.key" }}\n}}\n', "v.conf")
    assert any("absent.key" in str(w) and "does not exist here" in str(w) for w in config.warnings)
    load_config_text(f'opendkim "o" {{ dkim_domain "example.test" {{ selector = "s1" '
                     f'key = "{key.private}" }} }}\n', "ok.conf")
