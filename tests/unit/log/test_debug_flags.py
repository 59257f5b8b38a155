"""ecelerity/log/debug_flags.py and its use by the paniclog: Debug_Flags levels and
Momentum's error classes decide which events are written (momentum-facts.md §2.4)."""
from __future__ import annotations

import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.log.debug_flags import LEVELS, DebugFlags, level_name, subsystem_of
from ecelerity.log.paniclog import PanicLog


def test_module_names_map_to_momentum_error_classes():
    assert subsystem_of("config") == "START" and subsystem_of("ecelerity") == "START"
    assert subsystem_of("SMTP") == "SMTP" and subsystem_of("log") == "LOG1"
    assert subsystem_of("scriptlet-00147") == "MOD" and subsystem_of("tls") == "SSL"
    assert subsystem_of("something new") == "ERROR"


def test_levels_by_name_or_number():
    assert [level_name(n) for n in range(6)] == list(LEVELS)
    assert level_name("warning") == "WARNING" and level_name("4") == "ERROR"
    with pytest.raises(ValueError, match="unknown paniclog level"):
        level_name("loud")


def test_default_flags_write_errors_and_criticals_of_every_class_only():
    flags = DebugFlags.from_config(load_config_text(""))
    assert flags.allows("error", "SMTP") and flags.allows("critical", "DNS")
    assert not flags.allows("warning", "SMTP") and not flags.allows("debug", "ERROR")


def test_configured_flags_pick_classes_per_level():
    cfg = load_config_text("Debug_Flags {\n  WARNING = ( SSL )\n  ERROR = ( SMTP DNS )\n}\n")
    flags = DebugFlags.from_config(cfg)
    assert flags.allows("warning", "SSL") and not flags.allows("warning", "SMTP")
    assert flags.allows("error", "SMTP") and not flags.allows("error", "START")
    assert flags.allows("critical", "START")  # CRITICAL unset: the default ALL


def test_the_paniclog_follows_the_flags_of_the_config_in_force(tmp_path):
    configs = {"now": load_config_text("Debug_Flags { ERROR = ( SMTP ) INFO = ( LOG1 ) }\n")}
    panic = PanicLog(str(tmp_path / "paniclog.ec"), clock=lambda: 1000,
                     config_getter=lambda: configs["now"])
    panic.write("smtp", "listener failed")            # ERROR / SMTP: written
    panic.write("config", "reload failed")            # ERROR / START: filtered
    panic.write("log", "logs reopened", level="info")  # INFO / LOG1: written
    panic.write("log", "chatter", level="debug")      # DEBUG: nothing
    panic.write("queue", "no DSN", subsystem="DB")    # the caller's class wins: filtered
    configs["now"] = load_config_text("")             # a reload: default flags
    panic.write("config", "reload ok")
    panic.close()
    assert (tmp_path / "paniclog.ec").read_text().splitlines() == [
        "1000:smtp: listener failed", "1000:log: logs reopened", "1000:config: reload ok"]


def test_a_paniclog_without_config_writes_every_error(tmp_path):
    panic = PanicLog(str(tmp_path / "p.ec"), clock=lambda: 5)
    panic.write("anything", "x")
    panic.write("anything", "y", level="notice")
    panic.close()
    assert (tmp_path / "p.ec").read_text() == "5:anything: x\n"
