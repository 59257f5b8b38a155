"""msys.gauge_cache.*, msys.audit_series.* and msys.audit.*: counters with time windows.

Installed by libraries.py. The counters are policy/audit.py's, shared with Sieve++ and kept
on the daemon app when there is one (so
a scriptlet reload keeps the counts), else on the runtime. Time comes from
``runtime.clock`` (time.monotonic by default; tests may set another).
  msys.gauge_cache.define(name [, ttl_seconds]) -> true; a cache of integer gauges by
      key; an entry untouched for ttl seconds (default 300, 0 = never) is forgotten.
  msys.gauge_cache.inc(name, key [, n]) / .dec(name, key [, n]) -> new value;
      .get(name, key) -> value (0 when unknown); .remove_item(name, key) -> true
  msys.audit_series.define(name [, window_seconds [, windows]]) -> true: per key, a
      ring of ``windows`` (default 10) counts of ``window_seconds`` (default 60) each.
  msys.audit_series.add(name, key [, n]) -> the key's total over the live windows;
      .count(name, key [, windows]) -> total over the last ``windows`` (all by default);
      .remove_item(name, key) -> true
  msys.audit.connections(ip_or_cidr [, seconds]) / .receptions / .rejections -> count
      within the last ``seconds`` (default: the whole 10-minute series), from the
      series "#connections", "#receptions", "#rejections" keyed by peer IP, which
      modules/scriptlet.py feeds from the SMTP phases (connect; data_spool accepted;
      a Lua hook left a 4xx/5xx code). msys.audit.inbound_session_count(cidr
      [, service]) -> live sessions from that block, from ``runtime.sessions_by_ip()``
      (ip -> count; modules/scriptlet.py sets it from SMTPService.sessions_by_ip);
      without it (a bare runtime) an error.
Using an undefined cache or series is an error (as in Momentum). Never does I/O.
"""
from __future__ import annotations

import ipaddress
import time
from typing import Any

from ..audit import Gauge, Series, SeriesStore, store_for

__all__ = ["Gauge", "Series", "SeriesStore", "store_of"]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def store_of(runtime: Any) -> SeriesStore:
    """The daemon's shared store (policy/audit.py), else one kept on the runtime."""
    app = getattr(runtime, "app", None)
    if app is not None:
        return store_for(app)
    return runtime.__dict__.setdefault("lua_series", SeriesStore())


def _now(runtime: Any) -> float:
    clock = runtime.__dict__.get("clock")  # getattr with a default raises inside: slower
    return time.monotonic() if clock is None else clock()


def _gauge(runtime: Any, name: Any) -> Gauge:
    found = store_of(runtime).gauges.get(_text(name))
    if found is None:
        raise KeyError(f"no gauge cache named {_text(name)!r} (msys.gauge_cache.define first)")
    return found


def _series(runtime: Any, name: Any) -> Series:
    found = store_of(runtime).series.get(_text(name))
    if found is None:
        raise KeyError(f"no audit series named {_text(name)!r} (msys.audit_series.define first)")
    return found


def gauge_define(runtime: Any, name: Any, ttl: Any = 300) -> bool:
    store_of(runtime).define_gauge(_text(name), float(ttl or 0))
    return True


def gauge_inc(runtime: Any, name: Any, key: Any, amount: Any = 1) -> int:
    return _gauge(runtime, name).add(_text(key), int(amount), _now(runtime))


def gauge_dec(runtime: Any, name: Any, key: Any, amount: Any = 1) -> int:
    return _gauge(runtime, name).add(_text(key), -int(amount), _now(runtime))


def gauge_get(runtime: Any, name: Any, key: Any) -> int:
    return _gauge(runtime, name).get(_text(key), _now(runtime))


def gauge_remove(runtime: Any, name: Any, key: Any) -> bool:
    _gauge(runtime, name).values.pop(_text(key), None)
    return True


def series_define(runtime: Any, name: Any, window: Any = 60, windows: Any = 10) -> bool:
    store_of(runtime).define_series(_text(name), float(window), int(windows))
    return True


def series_add(runtime: Any, name: Any, key: Any, amount: Any = 1) -> int:
    return _series(runtime, name).add(_text(key), int(amount), _now(runtime))


def series_count(runtime: Any, name: Any, key: Any, windows: Any = None) -> int:
    return _series(runtime, name).count(_text(key), _now(runtime), windows)


def series_remove(runtime: Any, name: Any, key: Any) -> bool:
    _series(runtime, name).counts.pop(_text(key), None)
    return True


def _audit(kind: str) -> Any:
    def count(runtime: Any, block: Any, seconds: Any = None) -> int:
        series = store_of(runtime).series[f"#{kind}"]
        return series.count_block(_text(block), _now(runtime),
                                  None if seconds is None else float(seconds))
    count.__name__ = f"audit_{kind}"
    return count


def inbound_session_count(runtime: Any, block: Any, service: Any = None) -> int:
    network = ipaddress.ip_network(_text(block), strict=False)
    sessions = getattr(runtime, "sessions_by_ip", None)
    if not callable(sessions):
        raise RuntimeError("per-IP session counts are not available here "
                           "(no SMTP listener in this runtime)")
    counts = sessions()
    return sum(n for ip, n in counts.items() if ipaddress.ip_address(ip) in network)


FUNCTIONS = {
    "msys.gauge_cache.define": gauge_define, "msys.gauge_cache.inc": gauge_inc,
    "msys.gauge_cache.dec": gauge_dec, "msys.gauge_cache.get": gauge_get,
    "msys.gauge_cache.remove_item": gauge_remove,
    "msys.audit_series.define": series_define, "msys.audit_series.add": series_add,
    "msys.audit_series.count": series_count, "msys.audit_series.remove_item": series_remove,
    "msys.audit.connections": _audit("connections"), "msys.audit.receptions": _audit("receptions"),
    "msys.audit.rejections": _audit("rejections"),
    "msys.audit.inbound_session_count": inbound_session_count,
}
