"""load_config / load_config_text (ecelerity/config/loader.py) on real files in tmp_path.

The loader chains the real parser, the validator and the resolver's Config, so
these tests read values back through Config to see what the daemon would see.
"""
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.errors import ConfigError
from ecelerity.config.loader import files_of, load_config, load_config_text, local_changes_path
from ecelerity.config.parser import parse_text


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_loads_a_file_with_includes_into_a_config(tmp_path: Path) -> None:
    write(tmp_path / "inc" / "b.conf", 'Binding "b1" {\n  bind_address = "127.0.0.2"\n}\n')
    write(tmp_path / "inc" / "a.conf", "retry_interval = 77\n")
    main = write(tmp_path / "main.conf", 'max_outbound_connections = 7\ninclude "inc"\n')
    cfg = load_config(main)
    assert cfg.get("max_outbound_connections") == 7
    assert cfg.get("retry_interval") == 77
    assert cfg.has_binding("b1")
    assert cfg.files == [main, str(tmp_path / "inc" / "a.conf"), str(tmp_path / "inc" / "b.conf")]
    assert cfg.warnings == [] or all(p.severity == "warning" for p in cfg.warnings)


def test_local_changes_file_is_loaded_last_and_wins(tmp_path: Path) -> None:
    write(tmp_path / "local.conf", 'retry_interval = 30\nDomain "example.com" {\n  retry_interval = 5\n}\n')
    main = write(tmp_path / "main.conf",
                 'Local_Changes_File = "local.conf"\nretry_interval = 900\n'
                 'Domain "example.com" {\n  retry_interval = 60\n}\n'
                 'Domain "example.com" {\n  max_outbound_connections = 3\n}\n')
    cfg = load_config(main)
    assert cfg.get("retry_interval") == 30
    assert cfg.get("retry_interval", domain="example.com") == 5
    assert cfg.get("max_outbound_connections", domain="example.com") == 3
    assert cfg.files[-1] == str(tmp_path / "local.conf")
    assert not any("set twice" in p.message for p in cfg.warnings)


def test_missing_local_changes_file_is_ignored(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", 'Local_Changes_File = "nope.conf"\nretry_interval = 9\n')
    assert load_config(main).get("retry_interval") == 9
    assert local_changes_path(parse_text("", "x.conf"), str(tmp_path)) is None


def test_errors_in_the_local_changes_file_carry_its_location(tmp_path: Path) -> None:
    local = write(tmp_path / "local.conf", "\nforce_fsync = perhaps\n")
    main = write(tmp_path / "main.conf", f'Local_Changes_File = "{local}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    assert [str(p) for p in caught.value.problems] == [
        f"{local}:2:15: option 'force_fsync': expected a boolean "
        "(on/off, true/false, yes/no, enabled/disabled, 1/0), got 'perhaps'"
    ]


def test_every_validation_error_is_raised_together(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "force_fsync = maybe\nspool_mode = 0999\nNoSuchScope {\n}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    assert [p.loc.line for p in caught.value.problems] == [1, 2, 3]
    assert all(p.severity == "error" for p in caught.value.problems)


def test_syntax_errors_come_from_the_parser_as_config_error(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", 'Binding "b" {\n  bind_address = "127.0.0.2"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(main)
    assert caught.value.problems[0].loc.file == main


def test_warnings_are_kept_on_the_config() -> None:
    cfg = load_config_text("retry_interval = 1\nretry_interval = 2\n", "w.conf")
    assert cfg.get("retry_interval") == 2
    assert [str(p) for p in cfg.warnings if "set twice" in p.message] == [
        "w.conf:2:1: warning: option 'retry_interval' is set twice in this scope "
        "(first at w.conf:1:1); the later value wins"
    ]


def test_load_config_text_resolves_includes_next_to_the_named_file(tmp_path: Path) -> None:
    write(tmp_path / "extra.conf", "max_outbound_connections = 11\n")
    cfg = load_config_text('include "extra.conf"\n', str(tmp_path / "virtual.conf"))
    assert cfg.get("max_outbound_connections") == 11


def test_files_of_lists_each_contributing_file_once_in_order() -> None:
    root = parse_text('retry_interval = 1\nDomain "a" { retry_interval = 2 }\n', "one.conf")
    assert files_of(root) == ["one.conf"]


TOKENS = ["Binding", "Binding_Group", "Domain", "Host", "ESMTP_Listener", "Control_Listener", "Listen",
          "Peer", "Pathway", "Pathway_Group", "ec_logger", "httpsrv", "Debug_Flags", "Security", "Cluster",
          '"b1"', '"a b"', '"x:y"', '"/(x/"', '"/^a$/"', '":25"', '"[::1]:25"', '"./s.sock"', '"10.0.0.0/8"',
          '"300.1.1.1"', "{", "}", "=", "(", ")", "[", "]", "\n", "max_outbound_connections", "force_fsync",
          "relay_hosts", "pathway", "bind_address", "spool_mode", "context", "error", "enabled", "10",
          "-1", "on", "maybe", "0640", "0999", '"60/3"', "k", "include", '"nowhere.conf"', "local_changes_file"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_any_token_soup_loads_or_raises_config_error(tokens: list[str]) -> None:
    text = " ".join(tokens)
    try:
        cfg = load_config_text(text, "soup.conf")
    except ConfigError as exc:
        assert exc.problems and all(p.severity == "error" for p in exc.problems)
    else:
        assert all(p.severity == "warning" for p in cfg.warnings)
