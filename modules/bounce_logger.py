"""bounce_logger: Momentum's bouncelog (16-field ``@`` records with a classification code).

Declares the ``bounce_logger`` module stanza (its option table lives here, not in
ecelerity/modules.py's catalogue). ``load(ctx)`` builds an
ecelerity.log.bounce_logger.BounceLogger and adds it to the daemon's log fan-out
(``app.loggers``): every permanent failure becomes a ``B`` line, every transient one a
``T`` line (``log_transient_failures``). Importing this file has no side effect
beyond defining MODULE; it never writes a log line itself.
"""
from __future__ import annotations

from typing import Any

from ecelerity.config.types import BOOLEAN, OCTAL_MODE, PATH, SECONDS
from ecelerity.log.bounce_logger import BounceLogger
from ecelerity.log.service import attach_module_logger
from ecelerity.modules import ModuleSpec, module_option

OPTIONS = {
    "bouncelog": module_option("bouncelog", PATH, None, "path of the bouncelog",
                               implemented=True),
    "bouncelog_mode": module_option("bouncelog_mode", OCTAL_MODE, 0o644,
                                    "file mode of the bouncelog", implemented=True),
    "heartbeat": module_option("heartbeat", SECONDS, 60,
                               "seconds between heartbeat lines (0: none)", implemented=True),
    "log_inband_bounces": module_option("log_inband_bounces", BOOLEAN, True,
                                        "log in-band bounces (B)", implemented=True),
    "log_outofband_bounces": module_option("log_outofband_bounces", BOOLEAN, True,
                                           "log out-of-band bounces (B, stage 21)",
                                           implemented=True),
    "log_transient_failures": module_option("log_transient_failures", BOOLEAN, True,
                                            "log transient failures (T)", implemented=True),
}


def load(ctx: Any) -> None:
    """Start this instance's bouncelog and hand it to the daemon's log fan-out."""
    attach_module_logger(ctx, lambda env: BounceLogger(ctx.settings, **env))


MODULE = ModuleSpec(name="bounce_logger", singleton=False, implemented=True,
                    doc="Momentum-style bounce logging (bouncelog with classification codes)",
                    options=OPTIONS, load=load)
