"""custom_logger: user-defined log lines from Momentum's ``%`` macro format strings.

Declares the ``custom_logger`` module stanza: per stage (reception, delivery,
transient_failure, permanent_failure, rejection, xfer) ``<stage>_format``,
``<stage>_logfile`` and ``<stage>_log_mode``; ``mainlog`` / ``mainlog_mode`` for stages
without a file of their own; the ``log_<stages>`` switches and ``sanitize``. Options
Momentum documents that we do not know the shape of (``namespace`` ...) are accepted
(``any_option``). ``load(ctx)`` builds an ecelerity.log.custom_logger.CustomLogger and
adds it to the daemon's log fan-out (``app.loggers``). Importing this file has no side
effect beyond defining MODULE.
"""
from __future__ import annotations

from typing import Any

from ecelerity.config.types import BOOLEAN, OCTAL_MODE, PATH, STRING
from ecelerity.log.custom_logger import STAGES, CustomLogger
from ecelerity.log.service import attach_module_logger
from ecelerity.modules import ModuleSpec, module_option

_SWITCHES = ("log_receptions", "log_deliveries", "log_transient_failures",
             "log_permanent_failures", "log_rejections")


def _options() -> dict[str, Any]:
    options = {
        "mainlog": module_option("mainlog", PATH, None, "log of stages without a logfile",
                                 implemented=True),
        "mainlog_mode": module_option("mainlog_mode", OCTAL_MODE, 0o644, "file mode of mainlog",
                                      implemented=True),
        "sanitize": module_option("sanitize", STRING, None,
                                  "special_characters, non_printable, tr/abc/xyz/",
                                  implemented=True),
    }
    for stage in STAGES:
        options[f"{stage}_format"] = module_option(f"{stage}_format", STRING, None,
                                                   f"line format of {stage} events",
                                                   implemented=True)
        options[f"{stage}_logfile"] = module_option(f"{stage}_logfile", PATH, None,
                                                    f"log file of {stage} events",
                                                    implemented=True)
        options[f"{stage}_log_mode"] = module_option(f"{stage}_log_mode", OCTAL_MODE, 0o644,
                                                     f"file mode of the {stage} log",
                                                     implemented=True)
    for switch in _SWITCHES:
        options[switch] = module_option(switch, BOOLEAN, None,
                                        f"{switch.replace('_', ' ')} (a format turns it on)",
                                        implemented=True)
    return options


def load(ctx: Any) -> None:
    """Compile this instance's formats and hand it to the daemon's log fan-out."""
    name = ctx.instance.instance or "custom_logger"
    attach_module_logger(ctx, lambda env: CustomLogger(ctx.settings, name=name,
                                                       report=env["report"]))


MODULE = ModuleSpec(name="custom_logger", singleton=False, implemented=True,
                    doc="user-defined logging from macro format strings",
                    options=_options(), load=load, any_option=True)
