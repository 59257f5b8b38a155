"""The ``antivirus`` stanza's grammar: typed engine options, checked with file:line:col.

Momentum's form (modules reference, "antivirus" and "clamav")::

    clamav { }                                   # the engine module, global scope
    antivirus "antivirus1" {
      action = reject                            # defaults for every engine below
      clamav "clamav1" {
        daemon = "/run/clamav/clamd.ctl"         # or "127.0.0.1:3310"
        timeout = 20  action = pass  enabled = false
        context_variable = "virus"  skip_context_variable = "skip_virus_check"
      }
    }

ENGINE_OPTIONS is the table both the antivirus ModuleSpec (stanza-level defaults,
type-checked by validate_config) and ``read_engines`` (engine stanzas) use.
``check_stanza`` returns every problem as (Location, message), ``read_engines``
raises AntivirusConfigError with the first one. Called by modules/antivirus.py
at load. Never opens a socket.
"""
from __future__ import annotations

from typing import Any

from ..config.types import BOOLEAN, SIZE, ConfigValueError, EnumType, IntegerType, PathType, SecondsType, StringType
from ..modules import module_option
from .clamd import parse_address
from .engines import MAX_ENGINE_NAME, EngineSettings

ENGINE_KINDS = ("clamav",)
NOT_BUILT_KINDS = ("csapi", "fsecure", "f_secure", "kaspersky", "beik", "brightmail", "eleven")

ENGINE_OPTIONS = {spec.name: spec for spec in (
    module_option("daemon", StringType(allow_empty=False, doc="a clamd address"), "127.0.0.1:3310",
                  "clamd's socket: /path/to/clamd.sock, host:port or [v6]:port", implemented=True),
    module_option("timeout", SecondsType(min_value=1), 10,
                  "seconds to wait for one scan (connect to answer)", implemented=True),
    module_option("action", EnumType(["reject", "pass"]), "reject",
                  "reject: refuse infected (reject code) and unscannable (error code) mail; "
                  "pass: only set the context variables for a policy script", implemented=True),
    module_option("context_variable", StringType(), "",
                  "message context variable set when a virus is found or the scan fails "
                  "(default <engine>_status; <name>_info holds the virus name)", implemented=True),
    module_option("skip_context_variable", StringType(), "skip_virus_check",
                  "when this context variable is set, the engine does not scan", implemented=True),
    module_option("error_code", IntegerType(min_value=400, max_value=599), 451,
                  "SMTP code when the scan fails (clamd down, timeout)", implemented=True),
    module_option("max_scan_size", SIZE, 25 * 1024 * 1024,
                  "larger messages/parts are not sent to the engine (unscannable)", implemented=True),
    module_option("mime_decompose", BOOLEAN, False,
                  "scan each decoded MIME leaf part instead of the whole message", implemented=True),
    module_option("paranoid", BOOLEAN, False, "clamd's own heuristics decide (set in clamd.conf)"),
    module_option("file_base", PathType(), "/var/tmp", "unused: messages are streamed from memory"),
    module_option("cache_size", IntegerType(min_value=0), 1000, "virus hash cache (not built)"),
    module_option("max_concurrency", IntegerType(min_value=0), 0, "concurrent scans (not built)"),
    module_option("pool", StringType(), "IO", "thread pool (greenlets here: not used)"),
    module_option("use_wire_rep", BOOLEAN, True, "the message as received is scanned"),
)}
_NO_EFFECT = frozenset(name for name, spec in ENGINE_OPTIONS.items() if not spec.implemented)


class AntivirusConfigError(Exception):
    """An engine stanza that cannot be used; the text starts with file:line:col."""


def _typed(settings: list[Any], problems: list[tuple[Any, str]], *, allow_engine_keys: bool
           ) -> dict[str, Any]:
    from ..modules import COMMON_MODULE_OPTIONS
    values: dict[str, Any] = {}
    for setting in settings:
        spec = ENGINE_OPTIONS.get(setting.key) or COMMON_MODULE_OPTIONS.get(setting.key)
        if spec is None:
            if allow_engine_keys:
                continue
            names = ", ".join(sorted(ENGINE_OPTIONS))
            problems.append((setting.loc, f"unknown option '{setting.name}' for an antivirus "
                                          f"engine (options: {names})"))
            continue
        try:
            value = spec.type.parse(setting.value)
        except ConfigValueError as exc:
            problems.append((setting.value.loc, f"option '{setting.name}': {exc}"))
            continue
        if setting.key == "daemon":
            try:
                parse_address(value)
            except ValueError as exc:
                problems.append((setting.value.loc, f"option 'daemon': {exc}"))
                continue
        values[setting.key] = value
    return values


def check_stanza(stanza: Any) -> tuple[list[EngineSettings], list[tuple[Any, str]]]:
    """The engines of one ``antivirus`` stanza and every problem found on the way."""
    problems: list[tuple[Any, str]] = []
    defaults = _typed(stanza.settings, problems, allow_engine_keys=True)
    engines: list[EngineSettings] = []
    seen: dict[str, Any] = {}
    for child in stanza.children:
        kind = child.kind
        if kind not in ENGINE_KINDS:
            why = "is not built yet" if kind in NOT_BUILT_KINDS else "is not an antivirus engine"
            problems.append((child.loc, f"'{child.spelling}' {why} (engines: {', '.join(ENGINE_KINDS)})"))
            continue
        name = child.name or kind
        if len(name) > MAX_ENGINE_NAME:
            problems.append((child.loc, f"engine name '{name}' is longer than {MAX_ENGINE_NAME}"))
            continue
        if name in seen:
            problems.append((child.loc, f"engine '{name}' is declared twice (first at {seen[name]})"))
            continue
        seen[name] = child.loc
        values = dict(defaults)
        values.update(_typed(child.settings, problems, allow_engine_keys=False))
        engines.append(EngineSettings(
            name=name, kind=kind, daemon=values.get("daemon", "127.0.0.1:3310"),
            timeout=float(values.get("timeout", 10)), action=values.get("action", "reject"),
            enabled=values.get("enabled", True), context_variable=values.get("context_variable", ""),
            skip_context_variable=values.get("skip_context_variable", "skip_virus_check"),
            error_code=int(values.get("error_code", 451)),
            max_scan_size=int(values.get("max_scan_size", 25 * 1024 * 1024)),
            mime_decompose=bool(values.get("mime_decompose", False)), loc=child.loc))
    return engines, problems


def no_effect_options(stanza: Any) -> list[tuple[Any, str]]:
    """Documented options that are accepted but change nothing here (for a log line)."""
    found = []
    for holder in [stanza, *stanza.children]:
        for setting in holder.settings:
            if setting.key in _NO_EFFECT:
                found.append((setting.loc, f"option '{setting.name}' is accepted but has no "
                                           f"effect here ({ENGINE_OPTIONS[setting.key].doc})"))
    return found


def read_engines(stanza: Any) -> list[EngineSettings]:
    """The engines of an ``antivirus`` stanza; AntivirusConfigError on the first problem."""
    engines, problems = check_stanza(stanza)
    if problems:
        loc, message = problems[0]
        raise AntivirusConfigError(f"{loc}: {message}")
    if not engines:
        raise AntivirusConfigError(f"{stanza.loc}: antivirus needs at least one engine stanza "
                                   "(clamav \"name\" { daemon = ... })")
    return engines
