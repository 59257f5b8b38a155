"""Option table: TLS for outbound delivery and inbound listeners, crypto engines.

Read by registry.py only; the SMTP server/client read values through the resolver.
"""
from __future__ import annotations

from .options_common import GLOBAL, SENDING, TLS_INBOUND, opt
from .types import BOOLEAN, PATH, STRING, EnumType

_BOTH = SENDING | TLS_INBOUND

OPTIONS = [
    opt("tls", EnumType(["no", "ifavailable", "required"]), "no", SENDING,
        "use STARTTLS on outbound connections", implemented=True),
    opt("tls_ifavailable_fallback", BOOLEAN, True, SENDING,
        "with tls = ifavailable, retry in clear text when negotiation fails", implemented=True),
    opt("tls_verify", EnumType(["no", "ca", "host", "optional"]), "no", SENDING,
        "how the remote server's certificate is checked", implemented=True),
    opt("tls_ca", PATH, None, SENDING, "CA bundle for verifying remote servers", implemented=True),
    opt("tls_certificate", PATH, None, _BOTH, "certificate presented (inbound and outbound)", implemented=True),
    opt("tls_key", PATH, None, _BOTH, "private key of tls_certificate", implemented=True),
    opt("tls_ciphers", STRING, None, _BOTH, "allowed cipher list (OpenSSL syntax)", implemented=True),
    opt("tls_protocols", STRING, None, _BOTH, "allowed protocol versions, e.g. +TLSv1.2:+TLSv1.3", implemented=True),
    opt("tlsv13_ciphersuites", STRING, None, _BOTH - {"ecstream_listener", "xmpp_listener"},
        "allowed TLSv1.3 ciphersuites"),
    opt("tls_client_ca", PATH, None, TLS_INBOUND | GLOBAL,
        "CA bundle for verifying client certificates", implemented=True),
    opt("tls_verify_mode", STRING, None, TLS_INBOUND,
        "whether an inbound client certificate is requested or required", implemented=True),
    opt("tls_allow_renegotiation", BOOLEAN, True, TLS_INBOUND, "allow TLS renegotiation"),
    opt("tls_verified_peer_is_authorized", BOOLEAN, False,
        {"http_listener", "listen", "pathway", "peer"},
        "a verified client certificate counts as authorized"),
    opt("tls_dhparams_file", PATH, None, GLOBAL, "Diffie-Hellman parameters file"),
    opt("tls_enable_dhe_ciphers", BOOLEAN, True, GLOBAL, "offer DHE ciphers"),
    opt("tls_ec_curve_names", STRING, None, GLOBAL, "curves/groups for ECDHE"),
    opt("tls_engine", EnumType(["openssl", "gnutls"]), "openssl", GLOBAL,
        "TLS library (accepted for compatibility; Python's ssl module is used)"),
    opt("crypto_engine", STRING, None, GLOBAL, "hardware crypto engine"),
    opt("crypto_lock_method", STRING, "EC_SSL_DEFAULTLOCK", GLOBAL, "TLS locking method",
        dynamic=False),
    opt("ssl_lock_method", STRING, "mutex", GLOBAL, "SSL lock method", dynamic=False),
]
