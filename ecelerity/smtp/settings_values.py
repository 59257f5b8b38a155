"""How a raw inbound option value becomes what an SMTP session acts on.

Who calls it: smtp/settings.py ``SessionSettings.resolve_uncached``, once per option
per uncached resolution, through ``NORMALISE`` (option name -> function; ``same`` for
the others). Each function returns the normalised value or raises TypeError /
ValueError, which the caller logs before keeping the default. Pure functions: never
reads configuration, never logs, holds no state.
"""
from __future__ import annotations

from typing import Any, Callable

from ..policy.relay import parse_networks


def same(value: Any) -> Any:
    """The raw value as it is (options without a normaliser)."""
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "enabled")
    return bool(value)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(str(v) for v in value)


def _as_line_length(value: Any) -> int | str:
    if isinstance(value, str):
        text = value.strip().lower()
        if not text.isdigit():
            if text not in ("ignore", "pedantic", "fix"):
                raise ValueError(f"expected ignore, pedantic, fix or a number, got {value!r}")
            return text
        value = text
    return max(0, int(value))


def _as_rate(value: Any) -> tuple[int, float] | None:
    """Accept "N", "N/S", (N, S) or an object with count/seconds attributes."""
    if value is None or value == "":
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), float(value[1])
    for count_attr, per_attr in (("count", "seconds"), ("messages", "seconds"), ("count", "per")):
        if hasattr(value, count_attr) and hasattr(value, per_attr):
            return int(getattr(value, count_attr)), float(getattr(value, per_attr))
    text = str(value)
    count, _, per = text.partition("/")
    return int(count), float(per or 1)


def _as_lower(value: Any) -> str:
    return str(value).strip().lower()


NORMALISE: dict[str, Callable[[Any], Any]] = {
    "idle_time": float,
    "session_time_limit": float,
    "received_rdns": _as_bool,
    "received_rdns_timeout": float,
    "max_message_size": int,
    "max_receptions_per_connection": int,
    "max_recipients_per_message": int,
    "listener_sessions": int,
    "service_sessions": int,
    "peer_sessions": int,
    "require_ehlo": _as_bool,
    "allow_ip_literal": _as_bool,
    "allow_null_envelope_sender": _as_bool,
    "allow_trailing_whitespace_in_commands": _as_bool,
    "rfc2821_pedantic_address_rules": _as_bool,
    "rfc2821_allow_whitespace_in_envelope": _as_bool,
    "open_relay": _as_bool,
    "relay_hosts": lambda v: parse_networks(_as_tuple(v)),
    "relay_domains": _as_tuple,
    "context": lambda v: {str(k): str(x) for k, x in dict(v).items()},
    "pathway": str,
    "banner_hostname": str,
    "static_banner": str,
    "received_hostname": str,
    "smtp_extensions": _as_tuple,
    "reconfig_message": str,
    "inbound_throttle_messages": _as_rate,
    "rfc2822_missing_headers": _as_lower,
    "rfc2822_date_header": _as_lower,
    "rfc2822_messageid_header": _as_lower,
    "rfc2822_lone_lf_in_headers": _as_lower,
    "rfc2822_lone_lf_in_body": _as_lower,
    "rfc2822_max_line_length": _as_line_length,
    "rfc2822_max_line_length_policy": _as_lower,
    "rfc2822_trace_headers": _as_bool,
    "use_ssl": _as_bool,
    "starttls_injection_policy": _as_lower,
}
