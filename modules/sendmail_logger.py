"""sendmail_logger: our traffic as Sendmail's syslog lines (logwatch and sma read them).

Declares the ``sendmail_logger`` module stanza (``logfile``, default
``<logdir>/sendmail.log``; ``logfile_mode``; the option names are ours: Momentum's
manual names the module but the option table was not available) and loads one
instance: ecelerity/log/compat_sendmail.py's SendmailLogger, added to the daemon's log
fan-out (``app.loggers``). Importing this file has no side effect beyond defining MODULE.
"""
from __future__ import annotations

import os
from typing import Any

from ecelerity.config.types import OCTAL_MODE, PATH
from ecelerity.log.compat_sendmail import SendmailLogger
from ecelerity.log.module_settings import octal_mode
from ecelerity.log.service import attach_module_logger
from ecelerity.modules import ModuleSpec, module_option

OPTIONS = {
    "logfile": module_option("logfile", PATH, None, "path of the log", implemented=True),
    "logfile_mode": module_option("logfile_mode", OCTAL_MODE, 0o644, "file mode of the log",
                                  implemented=True),
}


def _hostname(cfg: Any) -> str:
    try:
        return str(cfg.get("hostname") or "localhost")
    except Exception:  # noqa: BLE001 - a log line still needs some host name
        return "localhost"


def load(ctx: Any) -> None:
    """Open this instance's log and hand it to the daemon's log fan-out."""
    settings = {key.lower(): value for key, value in ctx.settings.items()}

    def build(env: dict[str, Any]) -> SendmailLogger:
        path = settings.get("logfile") or os.path.join(env["log_dir"], "sendmail.log")
        return SendmailLogger(str(path), mode=octal_mode(settings.get("logfile_mode")),
                              report=env["report"], hostname=_hostname(ctx.config))

    attach_module_logger(ctx, build)


MODULE = ModuleSpec(name="sendmail_logger", singleton=False, implemented=True,
                    doc="Sendmail-compatible logging", options=OPTIONS, load=load)
