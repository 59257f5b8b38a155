"""SessionSettings: every inbound option a session needs, resolved once per connection.

The listener builds one SessionSettings per accepted connection with
``SessionSettings.resolve(cfg, listen=..., peer_ip=...)``, which asks the resolver
``cfg.get_inbound(option, listener="esmtp_listener", listen=..., peer_ip=...)`` for each
option (Peer -> Listen -> listener -> pathway -> pathway_group -> global -> default).
The session never reads configuration per command; a reload affects new
connections only. ``SessionSettings()`` holds Momentum's documented defaults
(momentum-facts.md §7.2) and is what unit tests construct directly.

Resolution is cached: per Config object (the last CONFIGS_CACHED of them) a bounded
LRU of SETTINGS_CACHE_SIZE entries keyed by (listener, Listen, the Peer stanzas the
client matches), so clients matched by the same Peers share one resolution; each
connection gets its own shallow copy. A Config is immutable and a reload builds a
new one, so a reload invalidates the cache by construction. Measured on this
machine (one Peer stanza): 0.2-1.2 ms per uncached resolve (~50 options, each
parsing the client address in the resolver), ~20 µs cached for a new client IP,
~3 µs for a repeated one.

Line length (rfc2822_max_line_length / _policy, Momentum's semantics): the first is
"ignore", "pedantic" (refuse lines over 998), "fix" (repair lines over 998) or a
number N; with a number, or "ignore", the _policy option ("none", "fix", "reject")
decides, and "ignore" then means the RFC limit of 998. ``line_limit`` /
``line_action`` give the combined answer the session acts on (0 / "none": no check).

Values the session must act on are normalised at resolution (smtp/settings_values.py:
lists to tuples, CIDRs parsed, rates to (count, seconds)), so a bad value fails at
connection set-up with a clear log line rather than in the middle of a transaction.
"""
from __future__ import annotations

import copy
import logging
import socket
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from typing import Any

from ..config import registry
from ..config.resolver_listen import client_address
from ..policy.relay import IPNetwork
from .settings_values import NORMALISE, same

log = logging.getLogger("ecelerity.smtp")

DEFAULT_SESSION_TIME_LIMIT = 3600  # seconds; no Momentum option bounds a whole session
RFC_LINE_LIMIT = 998  # RFC 5322 §2.1.1, without the CRLF
SETTINGS_CACHE_SIZE = 4096  # (listener, Listen, matching Peers) entries per Config kept by resolve()


@dataclass
class SessionSettings:
    hostname: str = field(default_factory=socket.gethostname)
    idle_time: float = 300
    session_time_limit: float = DEFAULT_SESSION_TIME_LIMIT
    max_message_size: int = 0
    max_receptions_per_connection: int = 0
    max_recipients_per_message: int = 0
    listener_sessions: int = 0
    service_sessions: int = 0
    peer_sessions: int = 0  # sessions from one peer IP (0 = unlimited)
    require_ehlo: bool = False
    allow_ip_literal: bool = True
    allow_null_envelope_sender: bool = True
    allow_trailing_whitespace_in_commands: bool = False
    rfc2821_pedantic_address_rules: bool = True
    rfc2821_allow_whitespace_in_envelope: bool = False
    open_relay: bool = False
    relay_hosts: tuple[IPNetwork, ...] = ()
    relay_domains: tuple[str, ...] = ()
    context: dict[str, str] = field(default_factory=dict)
    pathway: str | None = None
    banner_hostname: str | None = None
    static_banner: str | None = None
    received_hostname: str | None = None
    smtp_extensions: tuple[str, ...] | None = None
    reconfig_message: str = "4.3.2 Reconfiguration in progress"
    inbound_throttle_messages: tuple[int, float] | None = None  # (messages, per seconds)
    rfc2822_missing_headers: str = "reject"
    rfc2822_date_header: str = "ifneeded"
    rfc2822_messageid_header: str = "ifneeded"
    rfc2822_lone_lf_in_headers: str = "pedantic"
    rfc2822_lone_lf_in_body: str = "ignore"
    rfc2822_max_line_length: int | str = "ignore"  # "ignore" | "pedantic" | "fix" | N
    rfc2822_max_line_length_policy: str = "none"  # "none" | "fix" | "reject"
    received_rdns: bool = False  # reverse DNS of the client in Received: (smtp/rdns.py)
    received_rdns_timeout: float = 1.0  # at most this long after connect waiting for the PTR
    rfc2822_trace_headers: bool = True
    max_line_length: int = 4096  # command line limit (RFC 5321 §4.5.3.1.4 says 512 minimum)
    use_ssl: bool = False  # implicit TLS before the banner (smtp/tls.py)
    starttls_injection_policy: str = "reject"
    # where these settings came from, so an extension (XCLIENT) can resolve them again
    listen: str | None = None
    listener: str = "esmtp_listener"
    source_config: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def resolve(cls, cfg: Any, *, listen: str | None = None, peer_ip: str | None = None,
                listener: str = "esmtp_listener") -> "SessionSettings":
        """Settings for one connection: a private copy of the cached resolution."""
        cache = _cache_for(cfg)
        key = (listener, listen, _peer_class(cfg, listener, listen, peer_ip))
        cached = cache.get(key)
        if cached is not None and type(cached) is cls:
            cache.move_to_end(key)
            return cached.copy()
        settings = cls.resolve_uncached(cfg, listen=listen, peer_ip=peer_ip, listener=listener)
        cache[key] = settings
        while len(cache) > SETTINGS_CACHE_SIZE:
            cache.popitem(last=False)
        return settings.copy()

    @classmethod
    def resolve_uncached(cls, cfg: Any, *, listen: str | None = None, peer_ip: str | None = None,
                         listener: str = "esmtp_listener") -> "SessionSettings":
        """Resolve every field from ``cfg`` (what resolve() caches)."""
        values: dict[str, Any] = {}
        names = [f.name for f in fields(cls) if f.name not in _NOT_OPTIONS]
        for name in names + [n for n in EXTENSION_OPTIONS if n not in names]:
            raw = _get_inbound(cfg, name, listener=listener, listen=listen, peer_ip=peer_ip)
            if raw is not None:
                values[name] = raw
        hostname = _get_global(cfg, "hostname")
        if hostname:
            values["hostname"] = str(hostname)
        settings = cls(listen=listen, listener=listener, source_config=cfg)
        for name, default in EXTENSION_OPTIONS.items():
            setattr(settings, name, default)
        for name, raw in values.items():
            try:
                setattr(settings, name, NORMALISE.get(name, same)(raw))
            except (TypeError, ValueError) as exc:
                log.error("option %s = %r unusable for a session (%s); using the default", name, raw, exc)
        return settings

    def copy(self) -> "SessionSettings":
        """A shallow copy (the extension attributes come along); what a session owns."""
        return copy.copy(self)

    @property
    def line_limit(self) -> int:
        """Longest line (without CRLF) accepted as is; 0 when lines are not checked."""
        if self.line_action == "none":
            return 0
        value = self.rfc2822_max_line_length
        return value if isinstance(value, int) and value > 0 else RFC_LINE_LIMIT

    @property
    def line_action(self) -> str:
        """What to do with a longer line: "none", "fix" or "reject"."""
        value = self.rfc2822_max_line_length
        if value == "pedantic":
            return "reject"
        if value == "fix":
            return "fix"
        policy = self.rfc2822_max_line_length_policy
        return policy if policy in ("fix", "reject") else "none"

    @property
    def banner_name(self) -> str:
        return self.banner_hostname or self.hostname

    @property
    def received_name(self) -> str:
        return self.received_hostname or self.hostname


_NOT_OPTIONS = {"hostname", "max_line_length", "listen", "listener", "source_config"}
# The caches of the last CONFIGS_CACHED Config objects (the one in force and, during a
# reload, the previous one that open sessions still use): [(config, LRU)], newest last.
CONFIGS_CACHED = 2
_CACHES: list[tuple[Any, "OrderedDict[tuple, SessionSettings]"]] = []


def _cache_for(cfg: Any) -> "OrderedDict[tuple, SessionSettings]":
    for index, (known, cache) in enumerate(_CACHES):
        if known is cfg:
            if index != len(_CACHES) - 1:
                _CACHES.append(_CACHES.pop(index))
            return cache
    cache: OrderedDict[tuple, SessionSettings] = OrderedDict()
    _CACHES.append((cfg, cache))
    del _CACHES[:-CONFIGS_CACHED]
    return cache


def _peer_class(cfg: Any, listener: str, listen: str | None, peer_ip: str | None) -> Any:
    """What the resolution depends on besides the Listen: the Peer stanzas matching peer_ip.

    Two clients matched by the same Peer stanzas get the same settings, so the cache
    key is those stanzas, not the address (a spam run from a /16 resolves once). Uses
    the resolver's ``matching_peers`` when it has one, else its Peer index (read only);
    anything unexpected falls back to the address itself.
    """
    if not peer_ip:
        return None
    matching = getattr(cfg, "matching_peers", None)
    try:
        if matching is not None:
            return ("peers",) + tuple(id(scope) for scope in matching(listener, listen, peer_ip))
        index = cfg._index
        peers = list(index.listener_peers[listener])
        if listen is not None:
            peers += index.listen_peers.get((listener, listen), [])
        if not peers:
            return ("peers",)
        address = client_address(peer_ip)
        return ("peers",) + tuple(id(p.scope) for p in peers if address in p.network)
    except (AttributeError, KeyError, TypeError, ValueError):
        return ("ip", peer_ip)


def clear_settings_cache() -> None:
    """Forget every cached resolution (tests; a reload does not need it)."""
    _CACHES.clear()

# Options read by the SMTP extensions (tls.py, auth.py, xclient.py) from session.settings:
# resolved like the fields above and set as attributes (name -> default when unset).
# An extension may add its own with register_session_option().
EXTENSION_OPTIONS: dict[str, Any] = {
    "tls_certificate": None, "tls_key": None, "tls_ciphers": None, "tls_protocols": None,
    "tls_client_ca": None, "tls_verify_mode": None, "tls_verified_peer_can_relay": False,
    "enable_authentication": None, "auth_require_tls": None, "auth_users": None,
    "auth_failure_delay": None, "xclient_hosts": None,
}


def register_session_option(name: str, default: Any = None) -> None:
    """Have SessionSettings.resolve also resolve ``name`` (an extension's option)."""
    EXTENSION_OPTIONS[name.lower()] = default


def _get_inbound(cfg: Any, option: str, **scope: Any) -> Any:
    if registry.lookup(option) is None:
        return None  # not declared (yet): asking would build a costly did-you-mean error
    try:
        return cfg.get_inbound(option, **scope)
    except (KeyError, LookupError):
        return None  # option not in the registry: keep the built-in default


def _get_global(cfg: Any, option: str) -> Any:
    try:
        return cfg.get(option)
    except (KeyError, LookupError):
        return None
