"""sendmail_logger: our traffic as Sendmail's syslog lines (logwatch and sma read them).

Declares the ``sendmail_logger`` module stanza (``logfile``, default
``<logdir>/sendmail.log``; ``logfile_mode``; the option names are ours: Momentum's
manual names the module but the option table was not available) and loads one
instance: ecelerity/log/compat_sendmail.py's SendmailLogger, added to the daemon's log
fan-out (``app.loggers``); ecelerity/log/compat_module.py builds the declaration and
load(). Importing this file has no side effect beyond defining MODULE.
"""
from __future__ import annotations

from ecelerity.log.compat_module import compat_logger_module
from ecelerity.log.compat_sendmail import SendmailLogger

MODULE = compat_logger_module("sendmail_logger", SendmailLogger, "sendmail.log",
                              "Sendmail-compatible logging", with_hostname=True)
OPTIONS = MODULE.options
load = MODULE.load
