"""Settings of a logging module stanza, with the registry's defaults filled in.

ec_logger.py, bounce_logger.py, custom_logger.py and jsonlog.py call these to turn a
``cfg.modules()`` instance (or a plain dict in tests) into a complete settings dict and
to place log files that the configuration leaves unset. Reads the configuration only
through the resolver's Config; never opens a file.
"""
from __future__ import annotations

import os
from typing import Any, Mapping


def with_defaults(module: str, settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """``settings`` (keys any case) over the defaults the module registry declares."""
    from ecelerity.modules import module_spec

    merged: dict[str, Any] = {}
    spec = module_spec(module)
    if spec is not None:
        merged.update({name: option.default for name, option in spec.options.items()})
    merged.update({key.lower(): value for key, value in (settings or {}).items()})
    return merged


def instances(cfg: Any, module: str) -> list[Any]:
    """The ``module`` stanzas of ``cfg`` (ModuleInstance objects), in file order."""
    return [instance for instance in cfg.modules() if instance.module.lower() == module]


def default_log_dir(cfg: Any) -> str:
    """Where unset log paths go: ``<spoolbase>/../log`` (as the daemon's paniclog)."""
    try:
        spoolbase = str(cfg.get("spoolbase"))
    except Exception:  # noqa: BLE001 - a config without spoolbase still logs somewhere
        spoolbase = "var/spool"
    return os.path.join(os.path.dirname(os.path.normpath(spoolbase)), "log")


def hires_timestamps(cfg: Any) -> bool:
    """The global ``log_hires_timestamp`` switch (False when unknown)."""
    try:
        return bool(cfg.get("log_hires_timestamp"))
    except Exception:  # noqa: BLE001
        return False


def octal_mode(value: Any, default: int = 0o644) -> int:
    """A file mode from a typed int or a raw string such as ``"0644"`` (octal)."""
    if value is None or value == "":
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        return default
