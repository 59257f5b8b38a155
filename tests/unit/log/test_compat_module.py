"""Tests of ecelerity/log/compat_module.py: the compatibility loggers' module declaration."""
from __future__ import annotations

from ecelerity.log.compat_exim import EximLogger
from ecelerity.log.compat_module import compat_logger_module, config_hostname


class Cfg:
    def __init__(self, values):
        self.values = values

    def get(self, name):
        return self.values[name]


def test_spec_declares_the_shared_options():
    spec = compat_logger_module("x_logger", EximLogger, "x.log", "X logging")
    assert spec.name == "x_logger" and spec.doc == "X logging"
    assert not spec.singleton and spec.implemented and callable(spec.load)
    assert {"logfile", "logfile_mode"} <= set(spec.options)
    assert spec.options["logfile"].default is None
    assert spec.options["logfile_mode"].default == 0o644


def test_each_spec_gets_its_own_options():
    one = compat_logger_module("a_logger", EximLogger, "a.log", "A")
    two = compat_logger_module("b_logger", EximLogger, "b.log", "B")
    assert one.options is not two.options


def test_config_hostname():
    assert config_hostname(Cfg({"hostname": "mx.example"})) == "mx.example"
    assert config_hostname(Cfg({"hostname": None})) == "localhost"
    assert config_hostname(Cfg({})) == "localhost"
