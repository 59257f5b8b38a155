"""Option table: the receiving side (ESMTP session policy, relaying, RFC conformance, auth).

Scopes are mostly esmtp_listener / listen / peer / pathway / pathway_group (and
global for some), per Momentum's Configuration Options Summary table;
``# default: inferred`` marks a default the docs do not give. Read by
registry.py only; code reads values through the resolver.
"""
from __future__ import annotations

from .options_common import GLOBAL, INBOUND, INBOUND_GLOBAL, PATHWAY, opt
from .types import (
    BOOLEAN,
    CIDR_LIST,
    COUNT,
    DICT,
    RATE,
    SECONDS,
    SIZE,
    STRING,
    STRING_LIST,
    EnumType,
)

_AUTH = INBOUND | {"control_listener", "http_listener"}
_TRACKING = INBOUND  # click/open tracking of SMTP injections

OPTIONS = [
    # --- session limits ---
    opt("idle_time", SECONDS, 300, INBOUND | {"http_listener", "xmpp_listener"},
        "seconds of client inactivity before disconnecting", implemented=True),
    opt("max_message_size", SIZE, 0, INBOUND,
        "largest message accepted, in bytes (0 = unlimited; else 552 5.3.4)", implemented=True),
    opt("max_receptions_per_connection", COUNT, 0, INBOUND_GLOBAL,
        "messages accepted on one session before 421 (0 = unlimited)", implemented=True),
    opt("max_recipients_per_message", COUNT, 0, INBOUND,
        "recipients accepted per message (0 = unlimited; else 452 4.5.3)", implemented=True),
    opt("listener_sessions", COUNT, 0, INBOUND,
        "concurrent sessions on this listener (0 = unlimited; else 421 4.4.5)", implemented=True),
    opt("service_sessions", COUNT, 0, INBOUND,
        "concurrent sessions on all listeners of this service (0 = unlimited)", implemented=True),
    opt("inbound_throttle_messages", RATE, None, PATHWAY,
        'rate limit on inbound messages ("N" or "N/S")', implemented=True),
    opt("session_time_limit", SECONDS, 3600, INBOUND_GLOBAL,  # ours: Momentum has no equivalent
        "seconds a whole SMTP session may last before 421 4.4.2 (0 = unlimited)", implemented=True),
    opt("received_rdns", BOOLEAN, False, INBOUND_GLOBAL,  # ours: Momentum's Received: has no rDNS
        "look up the client's reverse DNS name for our Received: header", implemented=True),
    opt("received_rdns_timeout", SECONDS, 1, INBOUND_GLOBAL,  # ours
        "longest wait (from connect) for that PTR answer; the address is used past it",
        implemented=True),
    opt("max_request_size", SIZE, None, {"http_listener", "listen", "peer", "pathway", "pathway_group"},
        "largest HTTP request accepted", implemented=True),
    # --- banner, headers, extensions ---
    opt("banner_hostname", STRING, None, INBOUND, "hostname shown in the 220 banner", implemented=True),
    opt("static_banner", STRING, None, INBOUND,
        'complete replacement banner; must start with "220"', implemented=True),
    opt("received_hostname", STRING, None, INBOUND, "hostname written in our Received: header", implemented=True),
    opt("smtp_extensions", STRING_LIST, None, INBOUND,
        'extra EHLO keywords, e.g. ( "ENHANCEDSTATUSCODES" "AUTH LOGIN" )', implemented=True),
    opt("reconfig_message", STRING, "4.3.2 Reconfiguration in progress", {"esmtp_listener"},
        "reply text while the configuration is being reloaded", implemented=True),
    opt("context", DICT, None, INBOUND,
        "connection-context variables set for every session, [ key = value ]", implemented=True),
    opt("pathway", STRING, None, {"esmtp_listener", "ecstream_listener", "listen", "peer"},
        "attach this listener, Listen or Peer to a pathway (also a scope: Pathway \"name\" { })"),
    # --- SMTP strictness ---
    opt("require_ehlo", BOOLEAN, False, INBOUND_GLOBAL, "refuse MAIL FROM before HELO/EHLO", implemented=True),
    opt("allow_ip_literal", BOOLEAN, True, INBOUND_GLOBAL, "accept IP literals in addresses", implemented=True),
    opt("allow_null_envelope_sender", BOOLEAN, True, INBOUND_GLOBAL, "accept MAIL FROM:<>", implemented=True),
    opt("allow_trailing_whitespace_in_commands", BOOLEAN, False, INBOUND_GLOBAL,
        "accept trailing whitespace after SMTP commands", implemented=True),
    opt("rfc2821_pedantic_address_rules", BOOLEAN, True, PATHWAY,
        "enforce RFC 2821 address syntax strictly", implemented=True),
    opt("rfc2821_allow_whitespace_in_envelope", BOOLEAN, False, PATHWAY,
        "accept whitespace before the final CRLF of envelope commands", implemented=True),
    opt("rfc2822_missing_headers", EnumType(["reject", "allow"]), "reject", PATHWAY,
        "what to do with a message that has no header block", implemented=True),
    opt("rfc2822_date_header", STRING, "ifneeded", PATHWAY,
        "add a Date: header to messages lacking one", implemented=True),
    opt("rfc2822_messageid_header", STRING, "ifneeded", PATHWAY,
        "add a Message-ID: header to messages lacking one", implemented=True),
    opt("rfc2822_lone_lf_in_headers", EnumType(["pedantic", "fix"]), "pedantic", PATHWAY,
        "reject or fix bare LF/CR in headers", implemented=True),
    opt("rfc2822_lone_lf_in_body", EnumType(["ignore", "fix", "pedantic"]), "ignore", PATHWAY,
        "ignore, fix or reject bare LF in the body", implemented=True),
    opt("rfc2822_max_line_length", EnumType(["ignore", "pedantic", "fix"], allow_int=True),
        "ignore", PATHWAY, "policy (or numeric limit) for lines over 998 characters", implemented=True),
    opt("rfc2822_max_line_length_policy", EnumType(["none", "fix", "reject"]), "none", PATHWAY,
        "what to do with lines longer than rfc2822_max_line_length", implemented=True),
    opt("rfc2822_trace_headers", BOOLEAN, True, PATHWAY, "add a Received: trace header", implemented=True),
    opt("default_charset", STRING, "us-ascii", PATHWAY, "charset assumed for unlabelled text"),
    opt("domain_for_unqualified_recipient_addresses", STRING, None, INBOUND_GLOBAL,
        "domain appended to recipient addresses without one"),
    opt("domain_for_unqualified_sender_address", STRING, None, INBOUND_GLOBAL,
        "domain appended to a sender address without one"),
    opt("generate_bounces_for_multi_recipient_policy_rejections", BOOLEAN, True, PATHWAY,
        "generate MDNs after reception for per-recipient policy rejections"),
    opt("mime_parse_large_messages_during_reception", BOOLEAN, True, GLOBAL,
        "MIME-parse large messages at reception rather than just in time"),
    opt("expensive_batch_assessment", BOOLEAN, False, GLOBAL,
        "compare rendered messages before batching recipients together"),
    # --- relaying ---
    opt("open_relay", BOOLEAN, False, INBOUND, "relay for any client (use inside a Peer scope)", implemented=True),
    opt("relay_hosts", CIDR_LIST, None, INBOUND_GLOBAL, "client CIDRs allowed to relay", implemented=True),
    opt("relay_domains", STRING_LIST, None, PATHWAY,
        'recipient domains we accept mail for ("*.example.com" globs)', implemented=True),
    opt("relay_for_sending_domains", STRING_LIST, None, INBOUND,
        "sender domains allowed to use us as a relay"),
    opt("starttls_injection_policy", STRING, "reject", INBOUND,
        "what to do with commands pipelined before STARTTLS completes", implemented=True),
    opt("tls_verified_peer_can_relay", BOOLEAN, False, INBOUND | {"ecstream_listener"},
        "a client with a verified TLS certificate may relay", implemented=True),
    opt("use_ssl", BOOLEAN, False, INBOUND | {"ecstream_listener", "http_listener"},
        "speak TLS from the first byte (SMTPS) on this listener", implemented=True),
    opt("proxy_protocol", BOOLEAN, False, {"esmtp_listener", "listen", "peer"},  # scopes: inferred
        "expect a PROXY protocol header before the SMTP greeting"),
    opt("proxy_protocol_timeout", SECONDS, 60, {"esmtp_listener", "listen", "peer"},
        "wait this long for the PROXY header"),
    # --- authentication ---
    opt("enable_authentication", BOOLEAN, False, _AUTH,  # default: inferred
        "require/offer authentication on this listener", implemented=True),
    opt("enable_authorization", BOOLEAN, False, {"control_listener", "listen", "peer"},  # inferred
        "check console commands against the Authorization roles", implemented=True),
    opt("always_allow", BOOLEAN, False, _AUTH, "authentication always succeeds (unless always_deny)", implemented=True),
    opt("always_deny", BOOLEAN, False, _AUTH, "authentication always fails", implemented=True),
    opt("authloginparameters", DICT, None,
        {"control_listener", "esmtp_listener", "listen", "pathway", "pathway_group"},
        "AUTH LOGIN settings, e.g. [ uri = \"...\" ]", implemented=True),
    opt("authplainparameters", DICT, None,
        {"esmtp_listener", "http_listener", "xmpp_listener", "listen", "pathway", "pathway_group"},
        "AUTH PLAIN settings", implemented=True),
    opt("authcrammd5parameters", DICT, None,
        {"control_listener", "esmtp_listener", "listen", "pathway", "pathway_group"},
        "AUTH CRAM-MD5 settings"),
    opt("authdigestmd5parameters", DICT, None, _AUTH | {"xmpp_listener"},
        "AUTH DIGEST-MD5 settings, e.g. [ uri = \"digest:///path/console_passwd\" ]"),
    opt("authorizationparameters", DICT, None, {"control_listener", "esmtp_listener", "listen"},
        "where authorization (role) information comes from"),
    # --- engagement tracking of SMTP injections ---
    opt("click_tracking_enabled", BOOLEAN, False, _TRACKING, "rewrite links for click tracking"),
    opt("click_tracking_scheme", STRING, "http", _TRACKING, "scheme of click-tracking links"),
    opt("open_tracking_enabled", BOOLEAN, False, _TRACKING, "insert an open-tracking pixel"),
    opt("open_tracking_scheme", STRING, "http", _TRACKING, "scheme of open-tracking links"),
    opt("tracking_domain", STRING, "localhost:8080", _TRACKING, "host:port of tracking links"),
    opt("tracking_link_expiry", SECONDS, 31536000, _TRACKING, "lifetime of tracking links"),
    opt("log_requests_to_paniclog", BOOLEAN, False,
        {"http_listener", "listen", "peer", "pathway", "pathway_group"},
        "log each REST request to the paniclog", implemented=True),
    # --- SMTP AUTH and XCLIENT (ours: Momentum configures these through its ac_auth modules) ---
    opt("auth_users", DICT, None, INBOUND_GLOBAL,
        'SMTP AUTH users: [ name = "{PBKDF2-SHA256}..." ] (make with python -m ecelerity.smtp.auth_backends)',
        implemented=True),
    opt("auth_require_tls", BOOLEAN, True, INBOUND,
        "offer and accept SMTP AUTH only after STARTTLS (else 538 5.7.11)", implemented=True),
    opt("auth_failure_delay", SECONDS, 1, INBOUND,
        "tarpit after a failed AUTH: this many seconds, doubling per failure (max 8); failures "
        "count per client IP (IPv6 /64) for 10 min, 5 lock it out with 421; 0 turns both off",
        implemented=True),
    opt("xclient_hosts", CIDR_LIST, None, INBOUND_GLOBAL, "client CIDRs allowed to use XCLIENT",
        implemented=True),
    opt("peer_sessions", COUNT, 0, INBOUND,
        "maximum concurrent sessions from one client IP (0: unlimited)", implemented=True),
]
