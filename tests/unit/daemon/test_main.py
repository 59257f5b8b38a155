"""ecelerity/daemon/main.py: where the runtime files go, the spool probe, exit codes of main()."""
from __future__ import annotations

import pytest

from ecelerity.config.loader import load_config
from ecelerity.daemon.main import (
    EXIT_BAD_CONFIG,
    EXIT_OK,
    main,
    prepare_spool,
    runtime_paths,
)
from ecelerity.daemon.service import StartupError


def config(tmp_path, text):
    path = tmp_path / "ecelerity.conf"
    path.write_text(text)
    return load_config(str(path))


def test_paniclog_defaults_next_to_the_spool(tmp_path):
    paths = runtime_paths(config(tmp_path, 'Spoolbase = "var/spool"\nPidfile = "var/run/e.pid"\n'), None)
    assert (paths.spool, paths.pidfile, paths.paniclog, paths.paniclog_mode) == (
        "var/spool", "var/run/e.pid", "var/log/paniclog.ec", 0o644)
    assert runtime_paths(config(tmp_path, 'Spoolbase = "spool"\n'), "x.pid").paniclog == "log/paniclog.ec"
    assert runtime_paths(config(tmp_path, 'Spoolbase = "spool"\n'), "x.pid").pidfile == "x.pid"


def test_ec_logger_paniclog_setting_wins(tmp_path):
    cfg = config(tmp_path, 'Spoolbase = "var/spool"\n'
                           'ec_logger "ec_logger" { paniclog = "logs/panic.ec" }\n')
    assert runtime_paths(cfg, None).paniclog == "logs/panic.ec"


def test_momentum_defaults_apply_when_unset(tmp_path):
    paths = runtime_paths(config(tmp_path, ""), None)
    assert (paths.spool, paths.pidfile) == ("/var/spool/ecelerity", "/var/run/ecelerity.pid")
    assert paths.paniclog == "/var/spool/log/paniclog.ec"


def test_prepare_spool_creates_and_probes(tmp_path):
    prepare_spool(str(tmp_path / "a/b/spool"))
    assert (tmp_path / "a/b/spool").is_dir()
    assert list((tmp_path / "a/b/spool").iterdir()) == []  # the probe file is gone
    (tmp_path / "f").write_text("")
    with pytest.raises(StartupError, match="spool directory '.*f' is not a directory"):
        prepare_spool(str(tmp_path / "f"))


def test_main_check_and_invalid_config_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.conf"
    good.write_text('Spoolbase = "var/spool"\n')
    assert main(["-c", str(good), "--check"]) == EXIT_OK
    bad = tmp_path / "bad.conf"
    bad.write_text("Spoolbase = (\n")
    assert main(["-c", str(bad), "--check"]) == EXIT_BAD_CONFIG
    err = capsys.readouterr().err.splitlines()
    assert err[-2].startswith(f"{bad}:2:1: ")
    assert err[-1] == f"ecelerity: configuration '{bad}' is invalid (1 error)"
    assert main(["-c", str(tmp_path / "missing.conf"), "--check"]) == EXIT_BAD_CONFIG
    assert "missing.conf" in capsys.readouterr().err
