"""Load a configuration: parse, splice in Local_Changes_File, validate, build a Config.

This is the one door from a file on disk to a resolver.Config. The daemon (start-up
and SIGHUP reload), validate_config and ec_dump_config all come through here, so
they accept and refuse exactly the same files. On any error it raises ConfigError
carrying every error found (parse errors, or all validation errors at once); it
never returns a half-valid Config and never prints anything.
"""
from __future__ import annotations

import os

from . import registry
from .errors import ConfigError, ConfigProblem
from .parser import parse_file, parse_text
from .resolver import Config
from .tree import Scalar, Stanza
from .validate import validate


def load_config(path: str, *, search_path: list[str] | None = None) -> Config:
    """Read ``path`` (with its includes and Local_Changes_File) into a validated Config."""
    root = parse_file(path, search_path=search_path)
    return _finish(root, os.path.dirname(os.path.abspath(path)), search_path)


def load_config_text(text: str, filename: str = "<string>", *,
                     search_path: list[str] | None = None) -> Config:
    """Like load_config for text in memory; relative includes and Local_Changes_File resolve
    against ``filename``'s directory (the working directory for a ``<...>`` pseudo-name)."""
    root = parse_text(text, filename, search_path=search_path)
    base_dir = os.path.dirname(os.path.abspath(filename)) if not filename.startswith("<") else os.getcwd()
    return _finish(root, base_dir, search_path)


def validate_root(root: Stanza, base_dir: str, search_path: list[str] | None = None
                  ) -> tuple[Stanza, list[str], list[ConfigProblem]]:
    """Splice Local_Changes_File into ``root`` and validate it.

    Returns (root, files read, warnings); raises ConfigError with every error (its
    ``all_problems`` attribute also holds the warnings, for validate_config).
    """
    local_changes = local_changes_path(root, base_dir)
    overrides: list[str] = []
    if local_changes is not None:
        splice_last(root, parse_file(local_changes, search_path=search_path))
        overrides.append(local_changes)
    problems = validate(root, overrides_from=overrides)
    if problems.errors:
        error = ConfigError(problems.errors)
        error.all_problems = list(problems.items)  # errors and warnings in file order, for tools
        raise error
    return root, files_of(root), problems.warnings


def _finish(root: Stanza, base_dir: str, search_path: list[str] | None) -> Config:
    root, files, warnings = validate_root(root, base_dir, search_path)
    return Config(root, files=files, warnings=warnings)


def local_changes_path(root: Stanza, base_dir: str) -> str | None:
    """The Local_Changes_File to load last, or None when it is not set or does not exist.

    An explicit setting is relative to the main file's directory; when unset, the
    registry's default (Momentum's /opt/msys/ecelerity/etc/local_changes.conf) is used.
    """
    settings = root.find_settings("local_changes_file")
    if settings:
        value = settings[-1].value
        if not isinstance(value, Scalar):
            return None  # the validator reports the wrong type
        candidate = value.text
    else:
        spec = registry.lookup("local_changes_file")
        candidate = spec.default if spec is not None and isinstance(spec.default, str) else ""
    if not candidate:
        return None
    candidate = os.path.join(base_dir, candidate)  # an absolute candidate stays absolute
    return candidate if os.path.isfile(candidate) else None


def splice_last(root: Stanza, extra: Stanza) -> None:
    """Append another file's global settings and stanzas after everything else (later wins)."""
    root.settings.extend(extra.settings)
    for child in extra.children:
        child.parent = root
        root.children.append(child)


def files_of(root: Stanza) -> list[str]:
    """Every file that contributed a node, in first-seen order (main file first)."""
    seen: dict[str, None] = {root.loc.file: None}
    stack = [root]
    while stack:
        stanza = stack.pop(0)
        seen.setdefault(stanza.loc.file, None)
        for setting in stanza.settings:
            seen.setdefault(setting.loc.file, None)
        stack[0:0] = stanza.children
    return [name for name in seen if not name.startswith("<") or name == root.loc.file]


__all__ = ["ConfigError", "load_config", "load_config_text", "validate_root"]
