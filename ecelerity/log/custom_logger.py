"""custom_logger: user-defined log lines from Momentum's ``%`` macro format strings.

A ``custom_logger "name" { delivery_logfile = "..." delivery_format = "%t %r@%R" }`` stanza
defines, per stage (reception, delivery, transient_failure, permanent_failure, rejection,
xfer), a ``<stage>_format`` and optionally a ``<stage>_logfile``; a stage with a format
but no file of its own goes to the instance's ``mainlog``. A format switches its stage
on; ``log_<stages>`` switches default to off. ``sanitize`` is any comma-separated mix of
``special_characters``, ``non_printable`` and ``tr/abc/xyz/``.

Macros (Momentum's documented list, SD4 modules/custom_logger):
%A auth method  %b binding  %B size  %BI batch id  %c classification name
%C classification code  %CI connection id  %d routing domain  %g binding group
%H remote host IP  %h{X} header X  %i message id  %m / %M MAIL FROM local part / domain
%n response text (DSN)  %N tries so far  %P pathway  %p protocol  %PG pathway group
%r / %R RCPT TO local part / domain  %s stage description  %S stage number
%t epoch seconds  %t{fmt} strftime  %T time in queue (2 decimals)  %T{N} N decimals
%U authenticated user  %us{N} epoch with N decimals  %vctx_conn{k} / %vctx_mess{k}
context values  %% a literal percent. A macro name is the whole run of letters after
``%`` (``%mx`` is the macro "mx", not %m + "x"); an unknown name expands to '' as in
Momentum's documented sample. Text outside macros is copied literally.
Not available yet: %h{X} expands to '' (the log sees the envelope, not the headers) and
%A to '' (the SMTP session does not record the AUTH mechanism yet); ``namespace``, the
Lua/Sieve macro namespaces, is not implemented.

Values are never allowed to break a line: newlines and other control characters are
always escaped; ``sanitize`` can ask for more. Writes through LogWriter (life cycle from
log/lifecycle.py): never blocks, never raises into the caller. Formats are compiled once, at construction.
"""
from __future__ import annotations

import os
import re
import time
from typing import Any, Callable, Mapping

from .bounce_logger import CLASSIFICATION_NAMES, classify
from .lifecycle import WriterLifecycle
from .module_settings import instances, octal_mode
from .records import escape_text
from .writer import FLUSH_INTERVAL, LogWriter

MODULE = "custom_logger"
STAGES = ("reception", "delivery", "transient_failure", "permanent_failure", "rejection", "xfer")
_SWITCH_OF_STAGE = {"reception": "log_receptions", "delivery": "log_deliveries",
                    "transient_failure": "log_transient_failures",
                    "permanent_failure": "log_permanent_failures",
                    "rejection": "log_rejections", "xfer": "log_deliveries"}
NULL_ID = "00/00-00000-00000000"  # what Momentum prints when there is no message yet
STAGE_NAMES = {
    0: "while not connected", 1: "while idle", 2: "during MAIL FROM", 3: "after MAIL FROM",
    4: "during RCPT TO", 5: "after RCPT TO", 6: "during DATA", 7: "after DATA",
    8: "while sending BODY", 9: "reading confirmation", 10: "during EHLO", 11: "after EHLO",
    12: "reading BANNER", 13: "during RSET", 14: "after RSET", 15: "during STARTTLS",
    16: "after STARTTLS", 17: "handshaking TLS", 18: "renegotiating TLS", 19: "during XCLIENT",
    20: "after XCLIENT", 21: "out of band bounce", 22: "in unknown state",
}
UNKNOWN_STAGE = 22
# A macro name is the whole run of letters/underscores after '%' (hence Momentum's advice
# not to use letters as delimiters); ``ns::name`` names a macro of another namespace.
_MACRO = re.compile(r"%(%|[A-Za-z_]+(?:::[A-Za-z_]+)?)(?:\{([^}]*)\})?")
_USER_SUPPLIED = frozenset("nhrRmMU") | {"vctx_conn", "vctx_mess"}


def _host(facts: Mapping[str, Any]) -> str:
    if facts.get("remote_ip"):
        return facts["remote_ip"]
    if facts.get("source_ip"):
        return facts["source_ip"]
    return str(facts.get("peer") or "").rsplit(":", 1)[0]


def _stage(facts: Mapping[str, Any]) -> int:
    stage = facts.get("stage")
    return UNKNOWN_STAGE if stage is None else int(stage)


def _classification(facts: Mapping[str, Any]) -> int | None:
    if facts.get("event") not in ("transient_failure", "permanent_failure", "bounce"):
        return None
    found = facts.get("classification")
    return found if found is not None else classify(facts.get("code"), facts.get("enhanced"),
                                                    facts.get("text"))


def _queue_time(facts: Mapping[str, Any], arg: str | None) -> str:
    places = int(arg) if arg and arg.isdigit() else 2
    return f"{float(facts.get('elapsed') or 0.0):.{places}f}"


def _clock_with(facts: Mapping[str, Any], arg: str | None) -> str:
    places = min(6, int(arg)) if arg and arg.isdigit() else 0
    return f"{float(facts['ts']):.{places}f}"


def _strftime(facts: Mapping[str, Any], arg: str | None) -> str:
    if arg is None:
        return str(int(facts["ts"]))
    return time.strftime(arg, time.localtime(facts["ts"]))


def _context(name: str) -> Callable[[Mapping[str, Any], str | None], str]:
    return lambda facts, arg: str((facts.get(name) or {}).get(arg or "", ""))


_EXPANDERS: dict[str, Callable[[Mapping[str, Any], str | None], Any]] = {
    "%": lambda facts, arg: "%",
    "A": lambda facts, arg: facts.get("auth_method", ""),
    "b": lambda facts, arg: facts.get("binding", ""),
    "B": lambda facts, arg: facts.get("size", ""),
    "BI": lambda facts, arg: facts.get("batch_id") or NULL_ID,
    "c": lambda facts, arg: CLASSIFICATION_NAMES.get(_classification(facts), ""),
    "C": lambda facts, arg: _classification(facts) or "",
    "CI": lambda facts, arg: facts.get("conn_id", ""),
    "d": lambda facts, arg: facts.get("domain", ""),
    "g": lambda facts, arg: facts.get("binding_group", ""),
    "H": lambda facts, arg: _host(facts),
    "h": lambda facts, arg: (facts.get("headers") or {}).get((arg or "").lower(), ""),
    "i": lambda facts, arg: facts.get("message_id") or NULL_ID,
    "m": lambda facts, arg: facts.get("from_local", ""),
    "M": lambda facts, arg: facts.get("from_domain", ""),
    "n": lambda facts, arg: facts.get("response") or facts.get("text", ""),
    "N": lambda facts, arg: facts.get("retries", ""),
    "P": lambda facts, arg: facts.get("pathway", ""),
    "p": lambda facts, arg: facts.get("protocol") or "unknown",
    "PG": lambda facts, arg: facts.get("pathway_group", ""),
    "r": lambda facts, arg: facts.get("rcpt_local", ""),
    "R": lambda facts, arg: facts.get("rcpt_domain", ""),
    "s": lambda facts, arg: STAGE_NAMES.get(facts["stage"], "") if "stage" in facts else "",
    "S": lambda facts, arg: _stage(facts),
    "t": _strftime,
    "T": _queue_time,
    "U": lambda facts, arg: facts.get("auth_user", ""),
    "us": _clock_with,
    "vctx_conn": _context("ctx_conn"),
    "vctx_mess": _context("ctx_mess"),
}


def _unknown(facts: Mapping[str, Any], arg: str | None) -> str:
    return ""  # a macro of a namespace we do not have (Lua, Sieve, user macros)


def make_sanitizer(spec: str | None) -> Callable[[str], str]:
    """The ``sanitize`` option as a function; always keeps a value on one line."""
    steps: list[Callable[[str], str]] = []
    for part in re.findall(r"tr/[^/]*/[^/]*/|[^,\s]+", spec or ""):
        if part == "special_characters":
            steps.append(escape_text)
        elif part == "non_printable":
            steps.append(lambda text: "".join(
                char if char.isprintable() else f"\\{ord(char):03d}" for char in text))
        elif part.startswith("tr/"):
            source, target = part[3:-1].split("/")
            if len(source) != len(target):
                raise ValueError(f"sanitize: tr/{source}/{target}/ needs equal lengths")
            table = str.maketrans(source, target)
            steps.append(lambda text, table=table: text.translate(table))
        else:
            raise ValueError(f"sanitize: unknown rule '{part}' "
                             "(special_characters, non_printable, tr/.../.../)")
    steps.append(lambda text: text.replace("\r", "\\r").replace("\n", "\\n"))

    def sanitize(text: str) -> str:
        for step in steps:
            text = step(text)
        return text
    return sanitize


def compile_format(fmt: str, sanitize: Callable[[str], str] | None = None
                   ) -> Callable[[Mapping[str, Any]], str]:
    """A format string as a function of the facts (parsed once; unknown ``%x`` is literal)."""
    clean = sanitize or make_sanitizer(None)
    parts: list[Any] = []
    position = 0
    for match in _MACRO.finditer(fmt):
        if match.start() > position:
            parts.append(fmt[position:match.start()])
        name, arg = match.group(1), match.group(2)
        parts.append((_EXPANDERS.get(name, _unknown), arg, name in _USER_SUPPLIED))
        position = match.end()
    if position < len(fmt):
        parts.append(fmt[position:])

    def render(facts: Mapping[str, Any]) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            expander, arg, user_supplied = part
            value = expander(facts, arg)
            text = "" if value is None else str(value)
            out.append(clean(text) if user_supplied else escape_text(text))
        return "".join(out)
    return render


class CustomLogger(WriterLifecycle):
    """One custom_logger instance: a compiled format and a writer per enabled stage."""

    def __init__(self, settings: Mapping[str, Any], *, name: str = MODULE,
                 report: Callable[[str, str], None] | None = None,
                 flush_interval: float = FLUSH_INTERVAL, use_threadpool: bool = True):
        settings = {key.lower(): value for key, value in settings.items()}
        sanitize = make_sanitizer(settings.get("sanitize"))
        self.name = name
        self.writers: dict[str, LogWriter] = {}
        self.stages: dict[str, tuple[Callable[[Mapping[str, Any]], str], LogWriter]] = {}
        writer_args = dict(report=report, flush_interval=flush_interval,
                           use_threadpool=use_threadpool)
        for stage in STAGES:
            fmt = settings.get(f"{stage}_format")
            switch = settings.get(_SWITCH_OF_STAGE[stage])
            if not fmt or switch in (False, "false", "off", "no", "0"):
                continue
            path = settings.get(f"{stage}_logfile") or settings.get("mainlog")
            if not path:
                raise ValueError(f"custom_logger '{name}': {stage}_format is set but neither "
                                 f"{stage}_logfile nor mainlog is")
            mode_key = "mainlog_mode" if not settings.get(f"{stage}_logfile") else f"{stage}_log_mode"
            path = str(path)
            if path not in self.writers:
                self.writers[path] = LogWriter(path, mode=octal_mode(settings.get(mode_key)),
                                               name=f"{name} {os.path.basename(path)}",
                                               **writer_args)
            self.stages[stage] = (compile_format(str(fmt), sanitize), self.writers[path])

    @classmethod
    def from_config(cls, cfg: Any, **kwargs: Any) -> list[CustomLogger]:
        return [cls(instance.settings, name=instance.instance or MODULE, **kwargs)
                for instance in instances(cfg, MODULE)
                if instance.settings.get("enabled") not in (False, "false", "off", "no")]

    def record(self, facts: Mapping[str, Any]) -> None:
        entry = self.stages.get(facts.get("event", ""))
        if entry is not None:
            render, writer = entry
            writer.write_line(render(facts))
