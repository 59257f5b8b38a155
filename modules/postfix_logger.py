"""postfix_logger: our traffic as Postfix's syslog lines (pflogsumm reads them).

Declares the ``postfix_logger`` module stanza (``logfile``, default
``<logdir>/postfix.log``; ``logfile_mode``; the option names are ours: Momentum's
manual names the module but the option table was not available) and loads one
instance: ecelerity/log/compat_postfix.py's PostfixLogger, added to the daemon's log fan-out
(``app.loggers``); ecelerity/log/compat_module.py builds the declaration and load().
Importing this file has no side effect beyond defining MODULE.
"""
from __future__ import annotations

from ecelerity.log.compat_module import compat_logger_module
from ecelerity.log.compat_postfix import PostfixLogger

MODULE = compat_logger_module("postfix_logger", PostfixLogger, "postfix.log",
                              "Postfix-compatible logging", with_hostname=True)
OPTIONS = MODULE.options
load = MODULE.load
