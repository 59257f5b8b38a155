"""The option registry: every ecelerity.conf option, declared once.

Each option has a value type (types.py), a built-in default (already a Python
value; Momentum's documented default), the scope kinds where it is valid, a
one-line doc and whether our daemon implements it yet. The tables live in
options_*.py, one file per area; this module gathers them and answers
``lookup``, ``all_options``, ``suggest`` and ``options_as_json``. The validator,
the resolver, ``validate_config --list-options`` and ``config set`` all read
options through here. Module-specific options live in ecelerity/modules.py.

This module never reads files: the seed option names are data below, not read
from /work/shared at runtime.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .types import EnumType, OptionType

# Pseudo scope kinds besides those of scopes.SCOPE_KINDS.
GLOBAL = "global"
MODULE = "module"


@dataclass(frozen=True)
class OptionSpec:
    """One option. ``name`` is lowercase; ``spelling`` is how docs and dumps write it."""

    name: str
    type: OptionType
    default: Any
    scopes: frozenset[str]
    doc: str
    implemented: bool = False
    dynamic: bool = True
    spelling: str = ""
    is_scope: bool = False  # the name is a stanza (domain, binding...), listed for completeness
    choices: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.spelling:
            object.__setattr__(self, "spelling", self.name)
        if not self.choices and isinstance(self.type, EnumType):
            object.__setattr__(self, "choices", self.type.choices)

    def __hash__(self) -> int:  # defaults may be lists; the name identifies an option
        return hash(self.name)

    def valid_in(self, scope_kind: str) -> bool:
        return scope_kind.lower() in self.scopes

    def render_default(self) -> str | None:
        """The default in config-file form, or None when unset by default."""
        return None if self.default is None else self.type.render(self.default)


_TABLE: dict[str, OptionSpec] | None = None


def _table() -> dict[str, OptionSpec]:
    """Build the name -> spec table once, on first use (the option files import us)."""
    global _TABLE
    if _TABLE is None:
        from . import (
            options_dns,
            options_http,
            options_inbound,
            options_listener,
            options_misc,
            options_outbound,
            options_system,
            options_tls,
        )

        table: dict[str, OptionSpec] = {}
        for area in (options_outbound, options_inbound, options_listener, options_system,
                     options_dns, options_tls, options_misc, options_http):
            for spec in area.OPTIONS:
                if spec.name in table:
                    raise RuntimeError(f"option {spec.name!r} declared twice ({area.__name__})")
                table[spec.name] = spec
        _TABLE = table
    return _TABLE


def lookup(name: str) -> OptionSpec | None:
    """The spec for ``name`` (any case), or None if no such option exists."""
    return _table().get(name.lower())


def all_options() -> list[OptionSpec]:
    """Every option, sorted by name."""
    return sorted(_table().values(), key=lambda spec: spec.name)


def suggest(name: str, candidates: list[str] | None = None) -> str | None:
    """The closest known name to a misspelt ``name`` (case-insensitive), or None.

    ``candidates`` narrows the search (e.g. the options valid in one scope, or a
    module's options); by default every registered option is a candidate. The
    answer keeps the candidate's own spelling.
    """
    if candidates is None:
        candidates = [spec.spelling for spec in _table().values()]
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    wanted = name.lower()
    matches = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.75)
    if matches:
        return by_lower[matches[0]]
    # Short names fall under the ratio cutoff for a single typo ("tsl" for "tls").
    for candidate in by_lower:
        if _one_edit_apart(wanted, candidate):
            return by_lower[candidate]
    return None


def _one_edit_apart(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or adjacent swap turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def options_as_json() -> list[dict[str, Any]]:
    """The registry as JSON-able dicts, for ``validate_config --list-options --json``."""
    rows = []
    for spec in all_options():
        row: dict[str, Any] = {
            "name": spec.name,
            "spelling": spec.spelling,
            "type": spec.type.name,
            "default": spec.render_default(),
            "scopes": sorted(spec.scopes),
            "doc": spec.doc,
            "implemented": spec.implemented,
            "dynamic": spec.dynamic,
            "is_scope": spec.is_scope,
        }
        if spec.choices:
            row["choices"] = list(spec.choices)
        rows.append(row)
    return rows


def seed_option_names() -> list[str]:
    """The 216 option names of Momentum's Configuration Options Reference (as listed there)."""
    return list(SEED_OPTION_NAMES)


# The seed's Configuration Options Reference, as data (see module docstring).
SEED_OPTION_NAMES: tuple[str, ...] = tuple("""
adaptive_backstore_leveldb adaptive_backstore_riak adaptive_enabled adaptive_scope
address_metrics_cleanse_interval address_metrics_lifetime alias_schemes allow_ip_literal
allow_null_envelope_sender allow_trailing_whitespace_in_commands async_bounce_rendering
authorization bind_address binding binding_auto_replumb binding_auto_replumb_interval
binding_group blackhole body_timeout bounce_behavior bounce_domains bounce_pattern
bounce_suppress_list bounces_inline_original capabilities chroot clear_mail_queue_maintainers
click_tracking_enabled click_tracking_scheme cluster_max_outbound_connections
cluster_outbound_throttle_connections cluster_outbound_throttle_messages
cluster_scope_max_outbound_connections cluster_server_max_outbound_connections connect_timeout
connect_timeout_to_delay connection_allocation_aggressiveness context control_client_timeout
crypto_engine crypto_lock_method debug_flags default_binding default_charset
delay_dsn_max_retry_interval delay_dsn_retry_interval delayed_binding_domain_fuzz
delayed_queue_scan_interval delivery_method delivery_pool delivery_response_timeout
disable_nagle_algorithm disk_queue_drain_rate dns_cache_purge_interval dns_expire_interval
dns_failures_to_purge dns_fallback_to_tcp domain_for_unqualified_recipient_addresses
domain_for_unqualified_sender_address domain domainkeys drop_body_after_trans_fail
ecstream_port ecstream_timeout ehlo_hostname ehlo_timeout enable_fbl_header_insertion
event_loop eventloop events_per_iter exclude_vctx_conn exclude_vctx_mess
expensive_batch_assessment force_fsync fully_resolve_before_smtp gateway generate_bounces
generate_bounces_for_multi_recipient_policy_rejections generate_delay_dsn growbuf_size host
hostname host_failure_retry http_basic_auth http_host http_method http_uri http_version
idle_timeout inbound_throttle_messages initial_hash_buckets inline_transfail_processing
keep_message_dicts_in_memory large_message_threshold legacy_message_threshold license
lmtp_port local_changes_file local_changes_only mail_queue_check_vm_interval mailerdaemon
mailfrom_timeout maintainer_pool malloc2mmap_threshold masterdb_file match_cache_life
match_cache_size max_deliveries_per_connection max_dns_ttl max_outbound_connections
max_recipients_per_batch max_request_size max_resident_active_queue max_resident_messages
max_resident_transfails max_retries max_retry_interval max_timed_events_per_iter
mdn_failures_notify memory_goal memory_hwm message_expiration
migrate_connections_between_sibling_domains mime_parse_large_messages_during_reception
min_dns_ttl mx_failures_fallback_to_a mx_failures_to_delay never_attempt_expired_messages
never_retry only_use_best_mx_for_relay_domains open_relay open_tracking_enabled
open_tracking_scheme opendkim_sign outbound_throttle_connections outbound_throttle_messages
pathway pathway_group pcre_cache_size pcre_cache_ttl permastore_interval pidfile
prohibited_hosts rcptto_timeout relay_for_sending_domains relay_domains relay_hosts
remote_smtp_port require_ehlo reserve_maintenance_interval resolv_conf
response_transcode_pattern response_transcode_replace retry_interval
rfc2821_allow_whitespace_in_envelope rfc2821_pedantic_address_rules rfc2822_date_header
rfc2822_lone_lf_in_body rfc2822_lone_lf_in_headers rfc2822_max_line_length
rfc2822_max_line_length_policy rfc2822_messageid_header rfc2822_missing_headers
rfc2822_trace_headers routes rset_timeout scope_max_outbound_connections scheduler security
send_8bitmime server_max_file_descriptors server_max_outbound_connections
server_reserve_outbound_connections signing_stats siv_throttle_cache_size skip_hosts SNMP
soft_bounce_drain_rate spool_mode spoolbase ssl_lock_method starttls_injection_policy
supplemental_groups suspend_delivery tcp_buffer_size threadpool timestampformat tls
tls_allow_renegotiation tls_ca tls_certificate tls_ciphers tls_client_ca tls_dhparams_file
tls_enable_dhe_ciphers tls_engine tls_ifavailable_fallback tls_key tls_protocols
tls_verified_peer_is_authorized tls_verify tls_verify_mode trace_smtp_mode tracking_domain
tracking_link_expiry transfail_drain_rate transform_8bitmime_content umem_reap_interval
unlink_on_spool_in_failure _unsafe_spool use_iflist_cache use_ipv6 use_mmap use_sendfile user
xclient
""".split())
