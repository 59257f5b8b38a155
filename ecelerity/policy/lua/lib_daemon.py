"""msys.dnsLookup and msys.registerControl: the Lua functions that reach the daemon.

Installed by libraries.py.
  msys.dnsLookup(name [, type [, options]]) -> array of strings, or nil, errmsg.
      type: A (default), AAAA, MX, TXT, PTR, NS (any case; anything else is an error).
      MX answers are ordered by preference; with ``options.priority = true`` each is
      ``{preference, host}``. ``options.server = "ip[:port]"`` (or "[v6]:port") asks
      that server instead of the runtime's resolver. PTR takes an IP address or a
      reverse name. The query goes out through delivery/dns.py's DnsResolver on gevent
      sockets: only the calling session's greenlet waits, never the hub.
  msys.registerControl(name, function(cc) ... end): a console command. ``cc.argv`` holds
      the arguments; what the function prints and returns is the command's output.
      The scriptlet module sets ``runtime.control_registrar(name, handler)`` (the module
      context's register_command); without one (offline) the function is only recorded
      in ``runtime.controls``.
Never does I/O except the DNS queries.
"""
from __future__ import annotations

import ipaddress
from typing import Any

_TYPES = ("A", "AAAA", "MX", "TXT", "PTR", "NS")


def _resolver(runtime: Any, server: str | None) -> Any:
    from ...delivery.dns import DnsResolver
    cache = runtime.__dict__.setdefault("_dns_resolvers", {})
    key = server or ""
    if key not in cache:
        if server:
            cache[key] = DnsResolver(nameserver=_server_address(server))
        elif getattr(runtime, "dns_resolver", None) is not None:
            cache[key] = runtime.dns_resolver
        else:
            cache[key] = DnsResolver()
    return cache[key]


def _server_address(text: str) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, 53


def _option(options: Any, key: str) -> Any:
    if options is None or runtime_type(options) != "table":
        return None
    return options[key.encode()]


def runtime_type(value: Any) -> str | None:
    return "table" if type(value).__name__ == "_LuaTable" else None


def dns_lookup(runtime: Any, name: bytes, rtype: Any = b"A", options: Any = None) -> Any:
    import dns.exception
    import dns.rdatatype
    import dns.reversename

    from ...delivery.dns import DnsError
    kind = (rtype.decode() if isinstance(rtype, bytes) else str(rtype or "A")).upper()
    if kind not in _TYPES:
        raise ValueError(f"unsupported record type {kind!r} (use one of {', '.join(_TYPES)})")
    host = bytes(name).decode("utf-8", "replace").strip().rstrip(".")
    server = _option(options, "server")
    priority = _option(options, "priority") is True
    if kind == "PTR":
        try:
            host = dns.reversename.from_address(host).to_text(omit_final_dot=True)
        except (ValueError, dns.exception.SyntaxError):
            pass  # already a reverse name
    resolver = _resolver(runtime, server.decode() if isinstance(server, bytes) else server)
    try:
        answer = resolver.lookup(host.lower(), dns.rdatatype.from_text(kind))
    except DnsError as exc:
        return None, str(exc).encode()
    if answer.nxdomain:
        return None, f"{host}: NXDOMAIN".encode()
    if not answer.records:
        return None, f"{host}: no {kind} records".encode()
    return runtime.to_lua(_values(kind, answer.records, priority)), None


def _values(kind: str, records: list[Any], priority: bool) -> list[Any]:
    if kind == "MX":
        ordered = sorted((rd.preference, rd.exchange.to_text(omit_final_dot=True))
                         for rd in records)
        return [[pref, host] if priority else host for pref, host in ordered]
    if kind in ("A", "AAAA"):
        return [str(ipaddress.ip_address(rd.address)) for rd in records]
    if kind == "TXT":
        return [b"".join(rd.strings).decode("utf-8", "replace") for rd in records]
    return [rd.target.to_text(omit_final_dot=True) for rd in records]


def register_control(runtime: Any, name: bytes, function: Any) -> bool:
    if type(function).__name__ != "_LuaFunction":
        raise TypeError("msys.registerControl(name, function): the second argument must "
                        "be a function")
    command = bytes(name).decode("utf-8", "replace").strip()
    if not command:
        raise ValueError("msys.registerControl: the command name is empty")
    function = runtime.sandbox.anchor(function)
    runtime.__dict__.setdefault("controls", {})[command] = function
    registrar = getattr(runtime, "control_registrar", None)
    if registrar is not None:
        registrar(command, function)
    return True


FUNCTIONS = {"msys.dnsLookup": dns_lookup, "msys.registerControl": register_control}
