"""Sieve++ named throttles: ec_throttle_create|inc|dec|check|tarpit, in an LRU cache.

Registered into compiler.py (FUNCTIONS, also usable as commands). One
ThrottleCache lives per sieve module instance (host.throttles) and holds at most
``siv_throttle_cache_size`` throttles; a throttle unused for its interval + 1 s is
evicted and must be re-created (creating an existing one is a no-op). A throttle
counts events in a fixed window of ``seconds``; ``check`` is "true" when the count
is over quota. ``tarpit`` counts and, over quota, sleeps until the window ends
(only the session greenlet sleeps). Never shared between processes.

``ec_shared_throttle_create "name" "X/Y" [epsilon]``, ``_inc``, ``_check`` and
``_tarpit`` (no ``_dec``, as in Momentum) have the same semantics over one cache
per daemon shared by every sieve instance: there is no cluster here, so "shared"
means node-wide, and epsilon (replication slack) is accepted and ignored.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from functools import lru_cache
from dataclasses import dataclass
from typing import Callable

from .ast import StringArg
from .codegen import shape
from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of, value_fn
from .runtime import Runtime
from .spec import Args, Spec

DEFAULT_CACHE_SIZE = 1000


@dataclass
class Throttle:
    limit: int
    seconds: float
    window_start: float
    count: int = 0
    last_used: float = 0.0

    def roll(self, now: float) -> None:
        if now - self.window_start >= self.seconds:
            self.window_start, self.count = now, 0


class ThrottleCache:
    """LRU of named throttles (``clock`` is injectable for tests).

    No lock: only the hub thread's greenlets (sessions, console) use it, and nothing
    here blocks, so no other greenlet runs in the middle of a method.
    """

    def __init__(self, size: int = DEFAULT_CACHE_SIZE, clock: Callable[[], float] = time.monotonic):
        self.size = max(1, int(size))
        self.clock = clock
        self._items: OrderedDict[str, Throttle] = OrderedDict()
        self._next_expiry = float("inf")  # no throttle can be stale before this time

    def __len__(self) -> int:
        return len(self._items)

    def create(self, name: str, spec: str) -> None:
        limit, seconds = parse_rate(spec)
        now = self.clock()
        self._expire(now)
        if name in self._items:
            self._items.move_to_end(name)
            return
        self._items[name] = Throttle(limit, seconds, now, 0, now)
        self._next_expiry = min(self._next_expiry, now + seconds + 1)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def _get(self, name: str) -> Throttle | None:
        now = self.clock()
        if now > self._next_expiry:
            self._expire(now)
        throttle = self._items.get(name)
        if throttle is not None:
            self._items.move_to_end(name)
            throttle.last_used = now
            if now - throttle.window_start >= throttle.seconds:  # Throttle.roll, inlined
                throttle.window_start, throttle.count = now, 0
        return throttle

    def _expire(self, now: float) -> None:
        # last_used only grows, so the earliest deadline seen is a safe lower bound
        if now <= self._next_expiry:
            return
        stale = [n for n, t in self._items.items() if now - t.last_used > t.seconds + 1]
        for name in stale:
            del self._items[name]
        self._next_expiry = min((t.last_used + t.seconds + 1 for t in self._items.values()),
                                default=float("inf"))

    def add(self, name: str, delta: int) -> bool:
        """Change the count; False if there is no such throttle (evicted or never created)."""
        throttle = self._get(name)
        if throttle is None:
            return False
        throttle.count = max(0, throttle.count + delta)
        return True

    def over(self, name: str) -> bool:
        now = self.clock()  # _get inline: ec_throttle_check runs once or more per message
        if now > self._next_expiry:
            self._expire(now)
        throttle = self._items.get(name)
        if throttle is None:
            return False
        self._items.move_to_end(name)
        throttle.last_used = now
        if now - throttle.window_start >= throttle.seconds:  # Throttle.roll, inlined
            throttle.window_start, throttle.count = now, 0
        return throttle.count > throttle.limit

    def wait_time(self, name: str) -> float:
        """Seconds until the window of an over-quota throttle ends (0 when under quota)."""
        throttle = self._get(name)
        if throttle is None or throttle.count <= throttle.limit:
            return 0.0
        return max(0.0, throttle.window_start + throttle.seconds - self.clock())

    def flush(self) -> int:
        count = len(self._items)
        self._items.clear()
        return count


@lru_cache(maxsize=256)
def parse_rate(spec: str) -> tuple[int, float]:
    """``"messages/seconds"`` -> (limit, seconds); ValueError on anything else."""
    left, slash, right = spec.strip().partition("/")
    try:
        limit, seconds = int(left), float(right)
    except ValueError:
        raise ValueError(f"throttle rate must be \"messages/seconds\", not {spec!r}") from None
    if not slash or limit < 0 or seconds <= 0:
        raise ValueError(f"throttle rate must be \"messages/seconds\" with seconds > 0, not {spec!r}")
    return limit, seconds


def _cache(rt: Runtime, args: Args, attr: str = "throttles") -> ThrottleCache:
    host = host_of(rt, args)
    cache = getattr(host, attr)
    if cache is None:
        cache = ThrottleCache()
        setattr(host, attr, cache)
    return cache


def _constant(env, arg) -> str | None:
    """The value of a constant one-string argument (None: depends on variables)."""
    constant = env.constant(arg) if isinstance(arg, StringArg) and not arg.bracketed else None
    return constant[0] if constant else None


def _create(attr: str):
    def build(args: Args, env):
        name_of, rate_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])
        name, rate = _constant(env, args.positional[0]), _constant(env, args.positional[1])

        def ec_throttle_create(rt: Runtime) -> str:
            try:
                _cache(rt, args, attr).create(name_of(rt), rate_of(rt))
            except ValueError as exc:
                raise SieveRuntimeError(f"{args.name}: {exc}", args.loc) from None
            return "true"
        if name is None or rate is None:
            return ec_throttle_create
        try:
            parse_rate(rate)  # a valid constant rate: create() cannot raise, codegen may call it
        except ValueError:
            return ec_throttle_create
        return shape(ec_throttle_create, "throttle_call", attr, "create", (name, rate))
    return build


def _adjust(delta: int, attr: str = "throttles"):
    def build(args: Args, env):
        name_of = value_fn(env, args.positional[0])
        name = _constant(env, args.positional[0])

        def adjust(rt: Runtime) -> str:
            return "true" if _cache(rt, args, attr).add(name_of(rt), delta) else "false"
        if name is None:
            return adjust
        return shape(adjust, "throttle_call", attr, "add", (name, delta))
    return build


def _check(attr: str):
    def build(args: Args, env):
        name_of = value_fn(env, args.positional[0])
        name = _constant(env, args.positional[0])

        def ec_throttle_check(rt: Runtime) -> str:
            host = rt.host  # _cache inline: the usual case is a host with its cache
            cache = getattr(host, attr) if host is not None else None
            if cache is None:
                cache = _cache(rt, args, attr)
            return "true" if cache.over(name_of(rt)) else "false"
        if name is None:
            return ec_throttle_check
        # codegen.py calls ``host.<attr>.over(name)`` inline when the host has its cache
        return shape(ec_throttle_check, "throttle_check", attr, name)
    return build


def _tarpit(attr: str):
    def build(args: Args, env):
        name_of = value_fn(env, args.positional[0])

        def ec_throttle_tarpit(rt: Runtime) -> str:
            cache, name = _cache(rt, args, attr), name_of(rt)
            if not cache.add(name, 1):
                return "false"
            wait = cache.wait_time(name)
            if wait > 0:
                host_of(rt, args).tarpit(wait)
                return "true"
            return "false"
        return ec_throttle_tarpit
    return build


SHARED = "shared_throttles"
FUNCTIONS = {
    "ec_throttle_create": Spec(_create("throttles"), positional=("value", "value")),
    "ec_throttle_inc": Spec(_adjust(1), positional=("value",)),
    "ec_throttle_dec": Spec(_adjust(-1), positional=("value",)),
    "ec_throttle_check": Spec(_check("throttles"), positional=("value",)),
    "ec_throttle_tarpit": Spec(_tarpit("throttles"), positional=("value",)),
    "ec_shared_throttle_create": Spec(_create(SHARED), positional=("value", "value", "tail_value")),
    "ec_shared_throttle_inc": Spec(_adjust(1, SHARED), positional=("value",)),
    "ec_shared_throttle_check": Spec(_check(SHARED), positional=("value",)),
    "ec_shared_throttle_tarpit": Spec(_tarpit(SHARED), positional=("value",)),
}


def as_command(spec: Spec) -> Spec:
    """A function used as a statement: run it, drop its value."""
    def build(args: Args, env):
        fn = spec.build(args, env)

        def command(rt: Runtime) -> None:
            fn(rt)
        return shape(command, "call", fn)  # codegen.py calls fn itself
    return Spec(build, tags=spec.tags, positional=spec.positional, match=spec.match)


COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()}
