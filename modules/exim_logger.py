"""exim_logger: our traffic as Exim's mainlog lines (eximstats reads them).

Declares the ``exim_logger`` module stanza (``logfile``, default
``<logdir>/exim_mainlog``; ``logfile_mode``; the option names are ours: Momentum's
manual names the module but the option table was not available) and loads one
instance: ecelerity/log/compat_exim.py's EximLogger, added to the daemon's log fan-out
(``app.loggers``). Importing this file has no side effect beyond defining MODULE.
"""
from __future__ import annotations

import os
from typing import Any

from ecelerity.config.types import OCTAL_MODE, PATH
from ecelerity.log.compat_exim import EximLogger
from ecelerity.log.module_settings import octal_mode
from ecelerity.log.service import attach_module_logger
from ecelerity.modules import ModuleSpec, module_option

OPTIONS = {
    "logfile": module_option("logfile", PATH, None, "path of the log", implemented=True),
    "logfile_mode": module_option("logfile_mode", OCTAL_MODE, 0o644, "file mode of the log",
                                  implemented=True),
}


def load(ctx: Any) -> None:
    """Open this instance's log and hand it to the daemon's log fan-out."""
    settings = {key.lower(): value for key, value in ctx.settings.items()}

    def build(env: dict[str, Any]) -> EximLogger:
        path = settings.get("logfile") or os.path.join(env["log_dir"], "exim_mainlog")
        return EximLogger(str(path), mode=octal_mode(settings.get("logfile_mode")),
                      report=env["report"])

    attach_module_logger(ctx, build)


MODULE = ModuleSpec(name="exim_logger", singleton=False, implemented=True,
                    doc="Exim-compatible logging", options=OPTIONS, load=load)
