"""Sieve++ audit counters: ec_ip_connections|receptions|rejections and audit_series*.

Registered into registry.py (FUNCTIONS, also usable as commands). The counts are
policy/audit.py's SeriesStore, shared with Lua's msys.audit*; the sieve and
scriptlet modules feed it from the phases (connections at connect, receptions when
data_spool accepted the message, rejections when a policy refused with 4xx/5xx).
  ec_ip_connections "ip-or-cidr" ["seconds"]  -> count over the last seconds
      (default: the whole series, 10 windows of 60 s); same for _receptions, _rejections
  audit_series_add "name" "key" ["n"]  -> the key's total; creates the series (10 x 60 s)
  audit_series "name" "ip-or-cidr-or-key" ["seconds"] -> count (an unknown series: "0")
Node-local (there is no cluster: the ``*_cluster`` variants are not provided).
Never does I/O.
"""
from __future__ import annotations

import time
from typing import Callable

from ..audit import SeriesStore
from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of, number, value_fn
from .ext_momentum_throttle import as_command
from .runtime import Runtime
from .spec import Args, Spec

ValueFn = Callable[[Runtime], object]


def store_of(rt: Runtime, args: Args) -> SeriesStore:
    host = host_of(rt, args)
    if host.audit is None:
        from ..audit import store_for
        host.audit = store_for(host.app)
    return host.audit


def _seconds(text: str, args: Args) -> float | None:
    return number(text, args, "a number of seconds") if text.strip() else None


def _count(series, block: str, seconds: float | None, args: Args) -> str:
    now = time.monotonic()
    try:
        return str(series.count_block(block, now, seconds))
    except ValueError:
        return str(series.count(block, now, None if seconds is None
                                else -(-int(seconds) // int(series.window))))


def _ip_counter(kind: str):
    def build(args: Args, env) -> ValueFn:
        block_of, seconds_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

        def ip_count(rt: Runtime) -> str:
            series = store_of(rt, args).series[f"#{kind}"]
            block = block_of(rt).strip() or (rt.host.peer_ip or rt.host.vctx.get("conn", "peer_ip") or "")
            try:
                return str(series.count_block(block, time.monotonic(), _seconds(seconds_of(rt), args)))
            except ValueError:
                raise SieveRuntimeError(f"'{args.name}': not an IP address or CIDR block: {block!r}",
                                        args.loc) from None
        return ip_count
    return build


def _series_add(args: Args, env) -> ValueFn:
    name_of, key_of, n_of = (value_fn(env, a) for a in args.positional[:3])

    def audit_series_add(rt: Runtime) -> str:
        amount = int(number(n_of(rt), args)) if n_of(rt).strip() else 1
        series = store_of(rt, args).define_series(name_of(rt))
        return str(series.add(key_of(rt).strip(), amount, time.monotonic()))
    return audit_series_add


def _series(args: Args, env) -> ValueFn:
    name_of, key_of, seconds_of = (value_fn(env, a) for a in args.positional[:3])

    def audit_series(rt: Runtime) -> str:
        series = store_of(rt, args).series.get(name_of(rt))
        if series is None:
            return "0"
        return _count(series, key_of(rt).strip(), _seconds(seconds_of(rt), args), args)
    return audit_series


FUNCTIONS = {
    "ec_ip_connections": Spec(_ip_counter("connections"), positional=("value", "tail_value")),
    "ec_ip_receptions": Spec(_ip_counter("receptions"), positional=("value", "tail_value")),
    "ec_ip_rejections": Spec(_ip_counter("rejections"), positional=("value", "tail_value")),
    "audit_series_add": Spec(_series_add, positional=("value", "value", "tail_value")),
    "audit_series": Spec(_series, positional=("value", "value", "tail_value")),
}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()}
