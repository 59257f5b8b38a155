"""Sieve++ ``ec_dns_lookup "name" ["type"]``: DNS answers as a string list.

Registered into registry.py (FUNCTIONS, also usable as a command). Types: A (the
default), AAAA, MX (exchange names by preference), TXT, PTR (an IP is reversed
first), NS, CNAME; NXDOMAIN, NODATA and failures give an empty list. Uses the
delivery engine's DnsResolver (delivery/dns.py: cached, on gevent sockets, so only
the session greenlet waits), else one built from the daemon's DNS options, else
(offline) one from /etc/resolv.conf. Never blocks the hub.
"""
from __future__ import annotations

from typing import Callable

from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of, value_fn
from .ext_momentum_throttle import as_command
from .runtime import Runtime
from .spec import Args, Spec

DNS_TYPES = ("A", "AAAA", "MX", "TXT", "PTR", "NS", "CNAME")
ValueFn = Callable[[Runtime], object]


def resolver_of(host) -> object:
    """The daemon's DnsResolver (the delivery engine's cache) or a private one."""
    if host.dns is None:
        engine = getattr(getattr(host.app, "queue_manager", None), "engine", None)
        host.dns = getattr(engine, "dns", None)
        if host.dns is None or not hasattr(host.dns, "lookup"):
            from ...delivery.dns import DnsResolver
            app = host.app
            if app is not None:  # one resolver per daemon, configured like delivery's
                host.dns = app.__dict__.get("sieve_dns_resolver")
                if host.dns is None:
                    host.dns = app.__dict__["sieve_dns_resolver"] = DnsResolver.from_config(
                        app.config, timeout=2.0, attempts=1)
            elif host.config is not None:
                host.dns = DnsResolver.from_config(host.config, timeout=2.0, attempts=1)
            else:
                host.dns = DnsResolver(timeout=2.0, attempts=1)
    return host.dns


def dns_answer(resolver, name: str, kind: str) -> list[str]:
    """The answer as strings; [] when there is none."""
    import dns.exception
    import dns.rdatatype
    import dns.reversename

    from ...delivery.dns import DnsError
    if kind == "PTR":
        try:
            name = dns.reversename.from_address(name).to_text(omit_final_dot=True)
        except (ValueError, dns.exception.SyntaxError):
            pass  # already a reverse name
    try:
        answer = resolver.lookup(name, dns.rdatatype.from_text(kind))
    except (DnsError, dns.exception.DNSException, OSError):
        return []
    records = answer.records
    if kind == "MX":
        records = sorted(records, key=lambda r: r.preference)
        return [r.exchange.to_text(omit_final_dot=True) for r in records]
    if kind == "TXT":
        return [b"".join(r.strings).decode("utf-8", "replace") for r in records]
    if kind in ("PTR", "NS", "CNAME"):
        return [r.target.to_text(omit_final_dot=True) for r in records]
    return [r.address for r in records]


def _dns_lookup(args: Args, env) -> ValueFn:
    name_of, kind_of = value_fn(env, args.positional[0]), value_fn(env, args.positional[1])

    def ec_dns_lookup(rt: Runtime) -> list[str]:
        host = host_of(rt, args)
        kind = (kind_of(rt) or "A").strip().upper()
        if kind not in DNS_TYPES:
            raise SieveRuntimeError(f"ec_dns_lookup: unsupported record type {kind!r} "
                                    f"(use one of {', '.join(DNS_TYPES)})", args.loc)
        name = name_of(rt).strip().rstrip(".")
        return dns_answer(resolver_of(host), name, kind)[: rt.limits.max_string_list]
    return ec_dns_lookup


FUNCTIONS = {"ec_dns_lookup": Spec(_dns_lookup, positional=("value", "tail_value"))}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()}
