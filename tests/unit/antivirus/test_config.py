"""ecelerity/antivirus/config.py: the antivirus stanza's engines, typed, errors at file:line:col."""
from __future__ import annotations

import pytest

from ecelerity.antivirus.config import AntivirusConfigError, check_stanza, no_effect_options, read_engines
from ecelerity.config.errors import ConfigError
from ecelerity.config.loader import load_config_text
from ecelerity.config.parser import parse_text

GOOD = """clamav { }
antivirus "antivirus1" {
  action = pass
  timeout = 3
  clamav "clamav1" {
    daemon = "/run/clamav/clamd.ctl"
    context_variable = "VIRUS"
    enabled = false
    paranoid = false
  }
  clamav "backup" { daemon = "[::1]:3310"  action = reject  error_code = 421  max_scan_size = 2M }
}
"""


def _antivirus(text: str):
    root = parse_text(text, "av.conf")
    return next(child for child in root.children if child.kind == "antivirus")


def test_engines_take_stanza_defaults_and_their_own_options():
    first, second = read_engines(_antivirus(GOOD))
    assert (first.name, first.daemon, first.action, first.timeout, first.enabled) == \
        ("clamav1", "/run/clamav/clamd.ctl", "pass", 3.0, False)
    assert (first.status_variable, first.skip_context_variable) == ("VIRUS", "skip_virus_check")
    assert (second.name, second.action, second.error_code, second.max_scan_size, second.enabled) == \
        ("backup", "reject", 421, 2 * 1024 * 1024, True)
    assert second.status_variable == "backup_status"
    assert [str(loc) for loc, _ in no_effect_options(_antivirus(GOOD))] == ["av.conf:9:5"]


def test_the_whole_file_validates_with_the_real_loader():
    config = load_config_text(GOOD, "av.conf")
    assert not [w for w in config.warnings if "not implemented" in str(w)]


@pytest.mark.parametrize("engine_body, where, message", [
    ('daemon = "nowhere"', "av.conf:3:12", "option 'daemon': clamd address 'nowhere': expected host:port"),
    ("timeout = soon", "av.conf:3:13", "option 'timeout': expected a number of seconds >= 1"),
    ("action = quarantine", "av.conf:3:12", "option 'action': expected one of: reject, pass"),
    ("error_code = 250", "av.conf:3:16", "option 'error_code': expected an integer from 400 to 599"),
    ("deamon = x", "av.conf:3:3", "unknown option 'deamon' for an antivirus engine"),
])
def test_engine_option_mistakes_name_file_line_col(engine_body, where, message):
    text = f'antivirus "a" {{\n clamav "c1" {{\n  {engine_body}\n }}\n}}\n'
    _, problems = check_stanza(_antivirus(text))
    assert [(str(loc), text) for loc, text in problems][0][0] == where
    assert problems[0][1].startswith(message)
    with pytest.raises(AntivirusConfigError, match=f"^{where}: "):
        read_engines(_antivirus(text))


def test_unknown_or_unbuilt_engines_and_duplicates_are_refused():
    text = ('antivirus "a" {\n csapi "x" { }\n scanner "y" { }\n clamav "c" { }\n'
            ' clamav "c" { }\n}\n')
    _, problems = check_stanza(_antivirus(text))
    assert [(str(loc), message) for loc, message in problems] == [
        ("av.conf:2:2", "'csapi' is not built yet (engines: clamav)"),
        ("av.conf:3:2", "'scanner' is not an antivirus engine (engines: clamav)"),
        ("av.conf:5:2", "engine 'c' is declared twice (first at av.conf:4:2)"),
    ]
    with pytest.raises(AntivirusConfigError, match="needs at least one engine"):
        read_engines(_antivirus('antivirus "a" { action = pass }\n'))


def test_validate_config_types_the_stanza_level_options():
    with pytest.raises(ConfigError, match=r"av\.conf:1:26: option 'action': expected one of"):
        load_config_text('antivirus "a" { action = maybe  clamav "c" { } }\n', "av.conf")
    with pytest.raises(ConfigError, match=r"av\.conf:1:10: unknown option 'daemon' for module 'clamav'"):
        load_config_text('clamav { daemon = "/x" }\n', "av.conf")


def test_validate_config_reports_engine_stanza_mistakes_at_their_location():
    """The module's own check runs inside validate_config, not only at module load."""
    bad = 'antivirus "av" {\n  clamav "c1" {\n    daemon = "/tmp/x.sock"\n    timout = 5\n  }\n}\n'
    with pytest.raises(ConfigError) as caught:
        load_config_text(bad, "av.conf")
    text = str(caught.value)
    assert "av.conf:4:5" in text and "timout" in text, text
    load_config_text(GOOD, "good.conf")  # the good one still loads
