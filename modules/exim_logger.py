"""exim_logger: our traffic as Exim's mainlog lines (eximstats reads them).

Declares the ``exim_logger`` module stanza (``logfile``, default
``<logdir>/exim_mainlog``; ``logfile_mode``; the option names are ours: Momentum's
manual names the module but the option table was not available) and loads one
instance: ecelerity/log/compat_exim.py's EximLogger, added to the daemon's log fan-out
(``app.loggers``); ecelerity/log/compat_module.py builds the declaration and load().
Importing this file has no side effect beyond defining MODULE.
"""
from __future__ import annotations

from ecelerity.log.compat_exim import EximLogger
from ecelerity.log.compat_module import compat_logger_module

MODULE = compat_logger_module("exim_logger", EximLogger, "exim_mainlog",
                              "Exim-compatible logging")
OPTIONS = MODULE.options
load = MODULE.load
