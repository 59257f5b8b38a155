"""validate_config and ec_dump_config (ecelerity/config/tools.py) as real processes.

Each test runs ``python -m ecelerity.config.tools validate|dump ...`` (the same code
the console scripts call) on files in tmp_path and checks exit status, stdout and
every stderr line.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from ecelerity.config import registry

REPO_ROOT = Path(__file__).resolve().parents[3]
BOOL = "expected a boolean (on/off, true/false, yes/no, enabled/disabled, 1/0)"


def run_tool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "ecelerity.config.tools", *args], cwd=cwd or REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_valid_file_exits_zero_and_prints_nothing_with_quiet(tmp_path: Path) -> None:
    conf = write(tmp_path / "ok.conf", 'max_outbound_connections = 3\nBinding "b" {\n}\n')
    result = run_tool("validate", "--quiet", conf)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_every_error_and_warning_is_one_stderr_line(tmp_path: Path) -> None:
    conf = write(tmp_path / "bad.conf",
                 "force_fsync = maybe\nretry_interval = 1\nretry_interval = 2\n"
                 "Max_Outbund_Connections = 5\nDomain \"/(x/\" {\n}\n")
    result = run_tool("validate", conf)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"{conf}:1:15: option 'force_fsync': {BOOL}, got 'maybe'" in lines
    assert (f"{conf}:3:1: warning: option 'retry_interval' is set twice in this scope "
            f"(first at {conf}:2:1); the later value wins") in lines
    assert (f"{conf}:4:1: unknown option 'Max_Outbund_Connections' "
            "(did you mean 'Max_Outbound_Connections'?)") in lines
    assert (f"{conf}:5:1: invalid regex domain '/(x/': "
            "missing ), unterminated subpattern at position 0") in lines
    assert all(line.startswith(f"{conf}:") for line in lines)
    assert "Traceback" not in result.stderr


def test_quiet_hides_warnings_and_strict_fails_on_them(tmp_path: Path) -> None:
    conf = write(tmp_path / "warn.conf", "retry_interval = 1\nretry_interval = 2\n")
    loud = run_tool("validate", conf)
    assert loud.returncode == 0 and "warning: option 'retry_interval' is set twice" in loud.stderr
    quiet = run_tool("validate", "--quiet", conf)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    strict = run_tool("validate", "--strict", conf)
    assert strict.returncode == 1 and "set twice" in strict.stderr


def test_syntax_errors_and_missing_includes_are_reported_with_locations(tmp_path: Path) -> None:
    conf = write(tmp_path / "syntax.conf", 'include "nowhere.conf"\n')
    result = run_tool("validate", conf)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{conf}:1:")
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run_tool("validate", str(tmp_path / "absent.conf"))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "absent.conf" in result.stderr and "Traceback" not in result.stderr


def test_several_files_fail_if_any_fails(tmp_path: Path) -> None:
    good = write(tmp_path / "good.conf", "retry_interval = 5\n")
    bad = write(tmp_path / "bad.conf", "spool_mode = 0999\n")
    result = run_tool("validate", "-q", good, bad)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{bad}:1:14: option 'spool_mode': expected an octal file mode like 0640, got '0999'"
    ]


def test_list_options_json_has_every_seed_option_with_type_default_and_scopes() -> None:
    result = run_tool("validate", "--list-options", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    by_name = {row["name"]: row for row in rows}
    seeds = registry.seed_option_names()
    assert len(seeds) == 216
    missing = [name for name in seeds if name.lower() not in by_name]
    assert missing == []
    for name in seeds:
        row = by_name[name.lower()]
        assert isinstance(row["type"], str) and row["type"]
        assert "default" in row
        assert isinstance(row["scopes"], list) and row["scopes"]
    assert by_name["max_outbound_connections"]["default"] == "32"
    assert "host" in by_name["max_outbound_connections"]["scopes"]


def test_list_options_text_mentions_every_option() -> None:
    result = run_tool("validate", "--list-options")
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line and not line.startswith(" ")}
    assert listed == {spec.name for spec in registry.all_options()}


def test_usage_errors_exit_two() -> None:
    assert run_tool("validate").returncode == 2
    assert run_tool("validate", "--json", "x.conf").returncode == 2
    assert run_tool("frobnicate").returncode == 2


def test_dump_prints_xml_of_a_valid_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "d.conf", 'Binding "b1" {\n  bind_address = "127.0.0.2"\n}\n')
    result = run_tool("dump", "-q", conf)
    assert result.returncode == 0, result.stderr
    doc = etree.fromstring(result.stdout.encode())
    assert doc.xpath("//scope[@type='binding'][@name='b1']/option[@name='bind_address']/@value") == ["127.0.0.2"]


def test_dump_with_defaults_adds_the_defaults_section(tmp_path: Path) -> None:
    conf = write(tmp_path / "d.conf", "retry_interval = 5\n")
    doc = etree.fromstring(run_tool("dump", "-q", "--defaults", conf).stdout.encode())
    assert doc.xpath("/ecelerity/defaults/option[@name='max_outbound_connections']/@value") == ["32"]


def test_dump_of_an_invalid_file_prints_errors_and_no_xml(tmp_path: Path) -> None:
    conf = write(tmp_path / "d.conf", "force_fsync = maybe\n")
    result = run_tool("dump", conf)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [f"{conf}:1:15: option 'force_fsync': {BOOL}, got 'maybe'"]


@pytest.mark.parametrize("script, args", [("validate_config", ["-q"]), ("ec_dump_config", ["-q"])])
def test_installed_console_scripts_run_the_same_code(tmp_path: Path, script: str, args: list[str]) -> None:
    path = Path(sys.executable).parent / script
    if not path.exists():
        pytest.skip(f"{script} is not installed in this environment")
    conf = write(tmp_path / "c.conf", "retry_interval = 5\n")
    result = subprocess.run([str(path), *args, conf], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
