"""ec_logger: Momentum's mainlog, rejectlog, acctlog and importlog, written by the running daemon.

Declares the ``ec_logger`` module stanza (its option table lives here, not in
ecelerity/modules.py's catalogue) and loads one instance: ``load(ctx)`` builds an
ecelerity.log.ec_logger.EcLogger from the stanza, adds it to the daemon's log fan-out
(``app.loggers``, ecelerity/log/service.py) and registers ``ec_logger:<instance>
reopen logs``. The daemon itself opens the ``paniclog`` named here (daemon/main.py).
Importing this file has no side effect beyond defining MODULE; it never writes a log
line itself.
"""
from __future__ import annotations

from typing import Any

from ecelerity.config.types import BOOLEAN, OCTAL_MODE, PATH, SECONDS
from ecelerity.log.ec_logger import EcLogger
from ecelerity.log.service import attach_module_logger
from ecelerity.modules import ModuleSpec, module_option

_LOGS = {  # log -> (implemented, what it holds)
    "mainlog": (True, "receptions, deliveries and failures (R D T P records)"),
    "rejectlog": (True, "refused SMTP commands"),
    "paniclog": (True, "the daemon's errors and events (opened by the daemon)"),
    "acctlog": (True, "authentication and authorization records"),
    "importlog": (True, "outcomes of spool import (I records; off unless set)"),
}
_SWITCHES = {  # switch -> implemented
    "log_receptions": True, "log_deliveries": True, "log_transient_failures": True,
    "log_permanent_failures": True, "log_rejections": True, "log_errors": True,
}


def _options() -> dict[str, Any]:
    options: dict[str, Any] = {}
    for log, (done, what) in _LOGS.items():
        options[log] = module_option(log, PATH, None, f"path of the {log}: {what}",
                                     implemented=done)
        options[f"{log}_mode"] = module_option(f"{log}_mode", OCTAL_MODE, 0o644,
                                               f"file mode of the {log}", implemented=done)
    options["heartbeat"] = module_option("heartbeat", SECONDS, 60,
                                         "seconds between heartbeat lines (0: none)",
                                         implemented=True)
    for switch, done in _SWITCHES.items():
        options[switch] = module_option(switch, BOOLEAN, True, switch.replace("_", " "),
                                        implemented=done)
    return options


def load(ctx: Any) -> None:
    """Start this instance's logs and hand them to the daemon's log fan-out."""
    attach_module_logger(ctx, lambda env: EcLogger(ctx.settings, **env))
    return None


MODULE = ModuleSpec(name="ec_logger", singleton=False, implemented=True,
                    doc="Momentum-style mainlog, rejectlog and acctlog",
                    options=_options(), load=load)
