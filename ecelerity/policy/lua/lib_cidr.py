"""msys.cidr.*: named CIDR tables for IP lookups, in process.

Installed by libraries.py. Subset of Momentum's API:
  msys.cidr.define(name, entries) -- entries: array of "10.0.0.0/8" strings, or a
      table {["10.0.0.0/8"] = "value", ...}; replaces a table of the same name
  msys.cidr.query(name, ip) -> the value of the most specific matching network
      ("1" for array entries) or nil
  msys.cidr.reload(name) -> true (datasource/rbldnsd kinds are not supported yet)
Tables are shared by all scripts of one runtime. query() is on policies' per-message
path: Lua calls its one-frame twin (``_fast_query``, the same lookup; any other
argument shape goes through the wrapped query()). Never does I/O.
"""
from __future__ import annotations

import functools
import ipaddress
from typing import Any


class CidrError(ValueError):
    pass


def _tables(runtime: Any) -> dict[bytes, list]:
    return runtime.__dict__.setdefault("_cidr_tables", {})


def define(runtime: Any, name: bytes, entries: Any) -> bool:
    networks = []
    for key, value in entries.items():
        text, result = (value, b"1") if isinstance(key, int) else (key, value)
        try:
            network = ipaddress.ip_network(bytes(text).decode(), strict=False)
        except ValueError as exc:
            raise CidrError(f"msys.cidr.define({bytes(name).decode()!r}): {exc}") from exc
        networks.append((network, result))
    networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
    # (version, network as int, netmask as int, value), most specific first: a query is
    # integer masking, not ipaddress's __contains__
    _tables(runtime)[bytes(name)] = [(network.version, int(network.network_address),
                                      int(network.netmask), value) for network, value in networks]
    return True


def query(runtime: Any, name: bytes, ip: bytes) -> Any:
    tables = runtime.__dict__.get("_cidr_tables")  # per message in policies: no helper call
    table = None if tables is None else tables.get(name if type(name) is bytes else bytes(name))
    if table is None:
        return None
    address = _address(ip if type(ip) is bytes else bytes(ip))
    if address is None:
        return None
    version, number = address
    for net_version, net, mask, value in table:
        if net_version == version and number & mask == net:
            return value
    return None


def _fast_query(guarded: Any, runtime: Any) -> Any:
    """query() for two byte strings in one frame; anything else through ``guarded``."""
    def fast(*args: Any) -> Any:
        if len(args) == 2 and type(args[0]) is bytes and type(args[1]) is bytes:
            tables = runtime.__dict__.get("_cidr_tables")
            table = None if tables is None else tables.get(args[0])
            if table is None:
                return None
            address = _address(args[1])
            if address is None:
                return None
            version, number = address
            for net_version, net, mask, value in table:
                if net_version == version and number & mask == net:
                    return value
            return None
        return guarded(*args)
    return fast


query.fast_path = _fast_query  # type: ignore[attr-defined]  (libraries._wrap)


@functools.lru_cache(maxsize=4096)
def _address(text: bytes) -> Any:
    """Parsed peer addresses as (IP version, int), cached: the same IPs are queried for
    every message."""
    try:
        address = ipaddress.ip_address(text.decode("ascii", "replace").strip("[]"))
    except ValueError:
        return None
    return address.version, int(address)


def reload(runtime: Any, name: bytes) -> bool:
    return bytes(name) in _tables(runtime)


FUNCTIONS = {"msys.cidr.define": define, "msys.cidr.query": query, "msys.cidr.reload": reload}
