"""Builds the module declaration of a compatibility logger (postfix/exim/sendmail_logger).

modules/postfix_logger.py, modules/exim_logger.py and modules/sendmail_logger.py call
``compat_logger_module`` with their formatter class (compat_postfix.py, compat_exim.py,
compat_sendmail.py): the result is a ModuleSpec with the shared stanza options
(``logfile``, default ``<logdir>/<default_file>``; ``logfile_mode``) and a ``load(ctx)``
that adds one formatter instance per stanza to the daemon's log fan-out
(``app.loggers``). Building a spec has no side effect; it never opens a file.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from ecelerity.config.types import OCTAL_MODE, PATH
from ecelerity.modules import ModuleSpec, module_option

from .module_settings import octal_mode
from .service import attach_module_logger


def compat_options() -> dict[str, Any]:
    """The stanza options every compatibility logger declares (names are ours)."""
    return {
        "logfile": module_option("logfile", PATH, None, "path of the log", implemented=True),
        "logfile_mode": module_option("logfile_mode", OCTAL_MODE, 0o644, "file mode of the log",
                                      implemented=True),
    }


def config_hostname(cfg: Any) -> str:
    """The global ``hostname`` for log lines that carry one ("localhost" when unknown)."""
    try:
        return str(cfg.get("hostname") or "localhost")
    except Exception:  # noqa: BLE001 - a log line still needs some host name
        return "localhost"


def compat_logger_module(name: str, logger_class: Callable[..., Any], default_file: str,
                         doc: str, *, with_hostname: bool = False) -> ModuleSpec:
    """The ModuleSpec of ``name`` whose load() feeds a ``logger_class`` to ``app.loggers``."""

    def load(ctx: Any) -> None:
        """Open this instance's log and hand it to the daemon's log fan-out."""
        settings = {key.lower(): value for key, value in ctx.settings.items()}

        def build(env: dict[str, Any]) -> Any:
            path = settings.get("logfile") or os.path.join(env["log_dir"], default_file)
            extra = {"hostname": config_hostname(ctx.config)} if with_hostname else {}
            return logger_class(str(path), mode=octal_mode(settings.get("logfile_mode")),
                                report=env["report"], **extra)

        attach_module_logger(ctx, build)

    return ModuleSpec(name=name, singleton=False, implemented=True, doc=doc,
                      options=compat_options(), load=load)
