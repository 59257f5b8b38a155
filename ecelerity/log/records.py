"""Momentum's log record layouts: mainlog, rejectlog, acctlog, importlog and bouncelog lines.

The single place where the field order of each record type is written down (docs/logs.md
repeats it for operators; momentum-facts.md §2 is the source). Every formatter here takes
a *facts* dict (built by log/facts.py from the spool's SpooledMessage and the delivery
engine's result) and returns one line without the trailing newline. The JSON log and the
custom logger read the same facts dicts, so all logs state the same facts.

Field layouts (``@``-separated logs; the record type is always field 4, 0-based):

- mainlog R: ts@msgid@batchid@connid@R@rcpt_local@rcpt_domain@from_local@from_domain@
  source_ip@size@protocol@binding_group@binding
- mainlog D: ts@msgid@batchid@connid@D@domain@size@binding_group@binding@retries@elapsed@
  remote_ip
- mainlog T / P: ts@msgid@batchid@connid@T@domain@bytes_sent@binding_group@binding@stage@
  retries@elapsed@remote_ip@response
- mainlog heartbeat: ts@@@@M
- bouncelog B / T: ts@msgid@batchid@connid@B@rcpt_local@rcpt_domain@from_local@
  from_domain@binding_group@binding@stage@classification@size@remote_ip@response
- bouncelog heartbeat: ts@@@@M1
- acctlog N / T: ts@N@endpoint@peer@user@result;  Z: ts@Z@endpoint@peer@user@result@
  command@role
- importlog I (spool import): ts@original_msgid@I@new_msgid@result@source_spool_dir;
  result 1 = imported, 2 = the source's metadata could not be read, 3 = the message
  could not be read from the source, 4 = it could not be written into our spool
- rejectlog: ``ts: R="ip:port" L="ip:port" C="connid" PATH="p" PATH_GRP="g" P="phase"
  E=550 M=module CTXCONN=[k=v,...] CTXMESS=[k=v,...] text``; heartbeat ``ts: Marker 1``.

Escaping (§2.5, applied to every field of every ``@`` log): ``\\`` -> ``\\\\``, ``@`` ->
``\\@``, newline -> ``\\n``, carriage return -> ``\\r``, tab -> ``\\t``, any other control
character -> ``\\xHH``. ``split_at_record`` undoes it. Elapsed seconds are printed with
at most 3 decimals and no trailing zeros (``0.393``, ``18.53``; an inference from the
documented samples). Timestamps are epoch seconds, or 16-digit epoch microseconds with
``log_hires_timestamp``.

Pure functions: no I/O, no clock, never raise on odd values (anything is str()-ed).
"""
from __future__ import annotations

from typing import Any, Mapping

R_FIELDS = ("ts", "message_id", "batch_id", "conn_id", "type", "rcpt_local", "rcpt_domain",
            "from_local", "from_domain", "source_ip", "size", "protocol", "binding_group",
            "binding")
D_FIELDS = ("ts", "message_id", "batch_id", "conn_id", "type", "domain", "size",
            "binding_group", "binding", "retries", "elapsed", "remote_ip")
TP_FIELDS = ("ts", "message_id", "batch_id", "conn_id", "type", "domain", "bytes_sent",
             "binding_group", "binding", "stage", "retries", "elapsed", "remote_ip",
             "response")
BOUNCE_FIELDS = ("ts", "message_id", "batch_id", "conn_id", "type", "rcpt_local",
                 "rcpt_domain", "from_local", "from_domain", "binding_group", "binding",
                 "stage", "classification", "size", "remote_ip", "response")
AUTH_FIELDS = ("ts", "type", "endpoint", "peer", "user", "result")
AUTHZ_FIELDS = AUTH_FIELDS + ("command", "role")
IMPORT_FIELDS = ("ts", "message_id", "type", "new_message_id", "result", "source")

MAINLOG_FIELDS = {"R": R_FIELDS, "D": D_FIELDS, "X": D_FIELDS, "T": TP_FIELDS, "P": TP_FIELDS}

_ESCAPES = {ord("\\"): "\\\\", ord("@"): "\\@", ord("\n"): "\\n", ord("\r"): "\\r",
            ord("\t"): "\\t"}
for _code in list(range(0x20)) + [0x7F]:
    _ESCAPES.setdefault(_code, f"\\x{_code:02x}")
_TEXT_ESCAPES = {key: value for key, value in _ESCAPES.items() if key != ord("@")}
_QUOTED_ESCAPES = {**_TEXT_ESCAPES, ord('"'): '\\"'}
_UNESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_BARE_CONTEXT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789._-@+/")


def escape_field(value: Any) -> str:
    """One field of an ``@``-separated log, escaped per §2.5 (None -> '')."""
    if value is None:
        return ""
    return str(value).translate(_ESCAPES)


def escape_text(value: Any) -> str:
    """Free text at the end of a space-separated line: control characters and ``\\``."""
    return "" if value is None else str(value).translate(_TEXT_ESCAPES)


def split_at_record(line: str) -> list[str]:
    """The unescaped fields of one ``@``-separated line (the inverse of the formatters)."""
    fields: list[str] = []
    current: list[str] = []
    chars = iter(line)
    for char in chars:
        if char == "@":
            fields.append("".join(current))
            current = []
        elif char == "\\":
            escaped = next(chars, "")
            if escaped == "x":
                current.append(chr(int(next(chars, "0") + next(chars, "0"), 16)))
            else:
                current.append(_UNESCAPES.get(escaped, escaped))
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def format_ts(when: float, hires: bool = False) -> str:
    """Epoch seconds, or 16-digit epoch microseconds when ``hires``."""
    if hires:
        return str(int(round(when * 1_000_000)))
    return str(int(when))


def format_elapsed(seconds: float) -> str:
    """Seconds with at most 3 decimals and no trailing zeros (negative clamps to 0)."""
    text = f"{max(0.0, float(seconds)):.3f}".rstrip("0").rstrip(".")
    return text or "0"


# Fields our own code generates (IDs, numbers, record letters) cannot hold '@', '\\' or
# control characters, so they skip escaping: half the fields of a line, on the hot path.
_GENERATED = frozenset({"type", "message_id", "batch_id", "size", "retries", "stage",
                        "bytes_sent", "classification", "result", "new_message_id"})


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _converters(layout: tuple[str, ...], hires: bool) -> tuple[tuple[str, Any], ...]:
    """(name, value -> text) per field of ``layout``, built once per layout."""
    key = (layout, hires)
    found = _CONVERTERS.get(key)
    if found is None:
        pairs = []
        for name in layout:
            if name == "ts":
                pairs.append((name, lambda when: format_ts(when, hires)))
            elif name == "elapsed":
                pairs.append((name, lambda seconds: format_elapsed(seconds or 0.0)))
            else:
                pairs.append((name, _plain if name in _GENERATED else escape_field))
        found = _CONVERTERS[key] = tuple(pairs)
    return found


_CONVERTERS: dict[tuple[tuple[str, ...], bool], tuple[tuple[str, Any], ...]] = {}


def render_at(layout: tuple[str, ...], facts: Mapping[str, Any], hires: bool = False) -> str:
    """Join ``facts`` in ``layout`` order with ``@`` (missing facts are empty fields)."""
    get = facts.get
    return "@".join([convert(get(name)) for name, convert in _converters(layout, hires)])


def mainlog_line(facts: Mapping[str, Any], hires: bool = False) -> str:
    """The mainlog line of an R, D, X, T or P record (``facts['type']`` picks the layout)."""
    return render_at(MAINLOG_FIELDS[facts["type"]], facts, hires)


def mainlog_heartbeat(when: float, hires: bool = False) -> str:
    return f"{format_ts(when, hires)}@@@@M"


def bouncelog_line(facts: Mapping[str, Any], hires: bool = False) -> str:
    """The bouncelog line; ``facts['type']`` is 'B' (bounce) or 'T' (transient failure)."""
    return render_at(BOUNCE_FIELDS, facts, hires)


def bouncelog_heartbeat(when: float, hires: bool = False) -> str:
    return f"{format_ts(when, hires)}@@@@M1"


def acctlog_line(facts: Mapping[str, Any], hires: bool = False) -> str:
    """An acctlog record: type 'N'/'T' (authentication), 'Z' (authorization) or '?'."""
    layout = AUTHZ_FIELDS if facts.get("type") == "Z" else AUTH_FIELDS
    return render_at(layout, facts, hires)


def importlog_line(facts: Mapping[str, Any], hires: bool = False) -> str:
    """An importlog ``I`` record: one message of a ``spool import`` and its outcome."""
    return render_at(IMPORT_FIELDS, facts, hires)


def _quoted(value: Any) -> str:
    return '"' + ("" if value is None else str(value)).translate(_QUOTED_ESCAPES) + '"'


def context_value(value: Any) -> str:
    """A context value as Momentum prints it: bare when plain, else double-quoted."""
    text = "" if value is None else str(value)
    if all(char in _BARE_CONTEXT_CHARS for char in text):
        return text
    return '"' + text.translate(_QUOTED_ESCAPES) + '"'


def context_dict(context: Mapping[str, Any] | None) -> str:
    """``[k=v,k2="v 2"]`` in the dict's own order (the order the values were set)."""
    if not context:
        return "[]"
    return "[" + ",".join(f"{escape_text(key)}={context_value(value)}"
                          for key, value in context.items()) + "]"


def rejectlog_line(facts: Mapping[str, Any], hires: bool = False) -> str:
    """A rejectlog line (facts: ts peer local conn_id pathway pathway_group phase code
    module ctx_conn ctx_mess text)."""
    code = facts.get("code")
    return (f"{format_ts(facts['ts'], hires)}: R={_quoted(facts.get('peer'))} "
            f"L={_quoted(facts.get('local'))} C={_quoted(facts.get('conn_id'))} "
            f"PATH={_quoted(facts.get('pathway'))} PATH_GRP={_quoted(facts.get('pathway_group'))} "
            f"P={_quoted(facts.get('phase'))} E={'' if code is None else escape_text(code)} "
            f"M={escape_text(facts.get('module')).replace(' ', '_')} "
            f"CTXCONN={context_dict(facts.get('ctx_conn'))} "
            f"CTXMESS={context_dict(facts.get('ctx_mess'))} {escape_text(facts.get('text'))}")


def rejectlog_heartbeat(when: float, hires: bool = False) -> str:
    return f"{format_ts(when, hires)}: Marker 1"
